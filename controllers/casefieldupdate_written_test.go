package controllers

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

// laggingReader serves one object as the cache held it before the last
// status write: a cache whose watch has not delivered that write yet.
type laggingReader struct {
	client.Client
	old *casesv1alpha1.CaseFieldUpdate
}

func (l laggingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if out, ok := obj.(*casesv1alpha1.CaseFieldUpdate); ok && key == client.ObjectKeyFromObject(l.old) {
		l.old.DeepCopyInto(out)
		return nil
	}
	return l.Client.Get(ctx, key, obj, opts...)
}

// TestReconcileAfterAWriteWaitsForTheCache reconciles an object once,
// then again from a cache that does not show the status the first
// reconcile wrote (another event queued the object meanwhile): the second
// reconcile waits for the cache instead of sending the UpdateCase again.
func TestReconcileAfterAWriteWaitsForTheCache(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	h := newHarness(t, harnessOptions{})
	obj := h.newObject("obj", "case-1", stringField("priority", "high"))
	r := h.createForReconcile(obj)
	cached := r.Client
	req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(obj)}
	before := &casesv1alpha1.CaseFieldUpdate{}
	g.Expect(cached.Get(ctx, req.NamespacedName, before)).To(Succeed())

	_, err := r.Reconcile(ctx, req)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(readyReason(h.get(obj))).To(Equal(casesv1alpha1.AppliedReason))
	g.Expect(h.updateCalls("case-1")).To(Equal(1))

	r.Client = laggingReader{Client: cached, old: before}
	res, err := r.Reconcile(ctx, req)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.RequeueAfter).To(Equal(staleCacheWait))
	g.Expect(h.updateCalls("case-1")).To(Equal(1), "no second UpdateCase from a stale read")

	// Once the cache shows the write, the object is settled.
	r.Client = cached
	g.Eventually(func(g Gomega) {
		res, err := r.Reconcile(ctx, req)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(res.RequeueAfter).NotTo(Equal(staleCacheWait))
	}, timeout, interval).Should(Succeed())
	g.Expect(h.updateCalls("case-1")).To(Equal(1))
	g.Expect(r.written.size()).To(BeZero())
}

// TestWrittenVersions checks when a status write stops being waited for.
func TestWrittenVersions(t *testing.T) {
	g := NewWithT(t)
	var w writtenVersions
	now := time.Now()
	uid := types.UID("u")

	g.Expect(w.stale(uid, "1", now)).To(BeFalse(), "nothing written")
	w.writing(uid, "1", now)
	g.Expect(w.stale(uid, "1", now)).To(BeTrue())
	w.observed(uid, "1")
	g.Expect(w.stale(uid, "1", now)).To(BeTrue(), "the version patched from is no news")
	w.observed(uid, "2")
	g.Expect(w.stale(uid, "1", now)).To(BeFalse(), "a newer version was seen")
	g.Expect(w.size()).To(BeZero())

	w.writing(uid, "2", now)
	g.Expect(w.stale(uid, "3", now)).To(BeFalse(), "the read is newer than the write")
	g.Expect(w.size()).To(BeZero())

	w.writing(uid, "3", now)
	g.Expect(w.stale(uid, "3", now.Add(maxStaleWait+time.Second))).To(BeFalse(), "waited long enough")
	g.Expect(w.size()).To(BeZero())

	w.writing(uid, "4", now)
	w.forget(uid)
	g.Expect(w.stale(uid, "4", now)).To(BeFalse())
}

// size returns the number of writes waited for.
func (w *writtenVersions) size() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.pending)
}
