package controllers

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

// TestValueFromFollowsItsSources runs an object whose fields come from a
// Secret and a ConfigMap through their changes, a manager restart, a
// deletion and a re-creation, with the sources watched across the cluster
// and in the watched namespaces only (--watch-namespaces): each change
// sends the object once more, nothing else does.
func TestValueFromFollowsItsSources(t *testing.T) {
	tests := map[string]bool{"whole cluster": false, "watched namespace": true}
	for name, namespaced := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			h := newHarness(t, harnessOptions{})
			tune := func(r *CaseFieldUpdateReconciler) {
				h.withValueFrom(r)
				if namespaced {
					r.WatchNamespaces = []string{h.namespace}
				}
			}
			stop := h.startManager(tune)
			ctx := context.Background()

			secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "source", Namespace: h.namespace},
				StringData: map[string]string{"summary": "first"}}
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "source", Namespace: h.namespace},
				Data: map[string]string{"priority": "low"}}
			g.Expect(k8sClient.Create(ctx, secret)).To(Succeed())
			g.Expect(k8sClient.Create(ctx, cm)).To(Succeed())
			obj := h.newObject("reader", "case-1", fromSecret("summary", "source", "summary"), fromConfigMap("priority", "source", "priority"))
			g.Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			g.Eventually(h.readyReasonOf(obj), timeout, interval).Should(Equal(casesv1alpha1.AppliedReason))
			g.Expect(h.updateCalls("case-1")).To(Equal(1))

			summary, priority := h.caseText("case-1", "summary"), h.caseText("case-1", "priority")

			// A change of the Secret sends the object again.
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(secret), secret)).To(Succeed())
			secret.StringData = map[string]string{"summary": "second"}
			g.Expect(k8sClient.Update(ctx, secret)).To(Succeed())
			g.Eventually(summary, timeout, interval).Should(Equal("second"))
			g.Eventually(h.readyReasonOf(obj), timeout, interval).Should(Equal(casesv1alpha1.AppliedReason))
			g.Expect(h.updateCalls("case-1")).To(Equal(2))

			// A new manager knows the sources' versions before it runs the
			// object: the restart sends nothing, and a change of the
			// ConfigMap after it sends the object once.
			stop()
			before := reconcileCount(g)
			h.startManager(tune)
			g.Eventually(reconcileCount, timeout, interval).Should(BeNumerically(">=", before+1))
			g.Expect(h.updateCalls("case-1")).To(Equal(2))
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(cm), cm)).To(Succeed())
			cm.Data = map[string]string{"priority": "high"}
			g.Expect(k8sClient.Update(ctx, cm)).To(Succeed())
			g.Eventually(priority, timeout, interval).Should(Equal("high"))
			g.Eventually(h.readyReasonOf(obj), timeout, interval).Should(Equal(casesv1alpha1.AppliedReason))
			g.Expect(h.updateCalls("case-1")).To(Equal(3))

			// A deleted Secret is reported; once created again, its value is
			// applied.
			g.Expect(k8sClient.Delete(ctx, secret)).To(Succeed())
			g.Eventually(h.readyReasonOf(obj), timeout, interval).Should(Equal(casesv1alpha1.ReferenceNotFoundReason))
			g.Expect(k8sClient.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "source", Namespace: h.namespace},
				StringData: map[string]string{"summary": "third"}})).To(Succeed())
			g.Eventually(summary, timeout, interval).Should(Equal("third"))
			g.Eventually(h.readyReasonOf(obj), timeout, interval).Should(Equal(casesv1alpha1.AppliedReason))
			g.Expect(h.updateCalls("case-1")).To(Equal(4))
		})
	}
}

// TestReferenceWatchBookkeeping checks what the reference watch keeps of
// the Secrets and ConfigMaps it follows and of their readers, and which
// changes it sends to the reconciler: none for its first list, the readers
// of each change after it, and, after a lost watch, the readers of what
// changed or went while it was lost.
func TestReferenceWatchBookkeeping(t *testing.T) {
	g := NewWithT(t)
	w := newReferenceWatch(nil, nil, nil, nil, nil)
	var sent []string
	w.unlisted.Store(2)
	store := func(kind refKind, namespace string) *refStore {
		return &refStore{w: w, kind: kind, namespace: namespace, enqueue: func(ns string, names []string) {
			for _, n := range names {
				sent = append(sent, ns+"/"+n)
			}
		}}
	}
	secrets, configMaps := store(secretRef, ""), store(configMapRef, "")
	meta := func(namespace, name, version string) *metav1.PartialObjectMetadata {
		return &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, ResourceVersion: version}}
	}
	reader := func(name string, secrets ...string) *casesv1alpha1.CaseFieldUpdate {
		obj := &casesv1alpha1.CaseFieldUpdate{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}}
		for _, s := range secrets {
			obj.Spec.Fields = append(obj.Spec.Fields, fromSecret("f-"+s, s, "k"))
		}
		return obj
	}
	secret := func(name string) refKey { return newRefKey(secretRef, "ns", name) }

	// Objects read s1 and s2; the first lists send nothing.
	a, b := reader("a", "s1"), reader("b", "s1", "s2")
	w.setReaders(nil, a)
	w.setReaders(nil, b)
	g.Expect(secrets.Replace([]any{meta("ns", "s1", "1"), meta("ns", "s2", "1"), meta("ns", "unread", "1")}, "1")).To(Succeed())
	g.Expect(configMaps.Replace([]any{meta("ns", "s1", "5")}, "5")).To(Succeed())
	g.Expect(sent).To(BeEmpty())
	g.Expect(w.listed).To(BeClosed(), "both first lists are in")
	g.Expect(w.version(secret("s1"))).To(Equal("1"))
	g.Expect(w.version(newRefKey(configMapRef, "ns", "s1"))).To(Equal("5"), "kinds are apart")

	// A change sends the readers; an event at the same version, an
	// unread Secret and a ConfigMap of the same name send nothing.
	g.Expect(secrets.Update(meta("ns", "s1", "2"))).To(Succeed())
	g.Expect(secrets.Update(meta("ns", "s1", "2"))).To(Succeed())
	g.Expect(secrets.Update(meta("ns", "unread", "2"))).To(Succeed())
	g.Expect(configMaps.Update(meta("ns", "s1", "6"))).To(Succeed())
	g.Expect(sent).To(ConsistOf("ns/a", "ns/b"))
	sent = nil

	// b moves from s2 to s3; an attempt of c adds it as a reader of s3
	// before the informer's event.
	b2 := reader("b", "s1", "s3")
	w.setReaders(b, b2)
	w.addReader(secret("s3"), "c")
	g.Expect(secrets.Add(meta("ns", "s3", "3"))).To(Succeed())
	g.Expect(secrets.Update(meta("ns", "s2", "3"))).To(Succeed())
	g.Expect(sent).To(ConsistOf("ns/b", "ns/c"))
	sent = nil

	// What its last attempt read (status.references) keeps an object a
	// reader after its spec moved on.
	a2 := reader("a")
	a2.Status.References = []casesv1alpha1.ValueReference{{Kind: "Secret", Name: "s1", ResourceVersion: "2"}}
	w.setReaders(a, a2)
	g.Expect(secrets.Delete(meta("ns", "s1", "2"))).To(Succeed())
	g.Expect(sent).To(ConsistOf("ns/a", "ns/b"))
	g.Expect(w.version(secret("s1"))).To(BeEmpty())
	sent = nil

	// After a lost watch, a new list sends the readers of what was
	// created, changed or deleted meanwhile, and only those.
	g.Expect(secrets.Replace([]any{meta("ns", "s1", "7"), meta("ns", "s2", "3"), meta("ns", "unread", "2")}, "7")).To(Succeed())
	g.Expect(sent).To(ConsistOf("ns/a", "ns/b", "ns/c"), "s1 created again, s3 deleted")
	g.Expect(w.version(secret("s3"))).To(BeEmpty())
	sent = nil

	// Deleted objects and Secrets leave nothing behind.
	w.setReaders(a2, nil)
	w.setReaders(b2, nil)
	g.Expect(secrets.Replace(nil, "8")).To(Succeed())
	g.Expect(configMaps.Delete(meta("ns", "s1", "6"))).To(Succeed())
	g.Expect(sent).To(BeEmpty(), "nothing read them any more")
	g.Expect(w.refs).To(HaveLen(1))
	g.Expect(w.refs).To(HaveKeyWithValue(secret("s3"), refState{readers: []string{"c"}}))
	w.setReaders(reader("c", "s3"), nil)
	g.Expect(w.refs).To(BeEmpty())
}

// caseText returns a function that reads a text field of a case of
// domain-1 from the emulator, "" while it is unset.
func (h *harness) caseText(caseID, field string) func() string {
	return func() string {
		v, _ := h.emu.CaseFields("domain-1", caseID)
		if f, ok := v[field]; ok && f.StringValue != nil {
			return *f.StringValue
		}
		return ""
	}
}

// TestSecretChangeStartsAndEndsAConflict runs the reference watch with
// Enforce, a neighbour on the same case and a reconcile request: an object
// under Enforce takes Priority from a Secret, a neighbour sets it by id. A
// change of the Secret to another value starts a field conflict on both
// sides without a call; a reconcile request on the conflicted object is
// acknowledged without a call; the Secret back to the neighbour's value
// ends the conflict and both apply again.
func TestSecretChangeStartsAndEndsAConflict(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t, harnessOptions{})
	h.startManager(h.withValueFrom)
	ctx := context.Background()

	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "routing", Namespace: h.namespace},
		StringData: map[string]string{"priority": "low"}}
	g.Expect(k8sClient.Create(ctx, secret)).To(Succeed())
	obj := h.newObject("enforced", "case-1", casesv1alpha1.CaseField{Name: "Priority", Value: casesv1alpha1.FieldValue{
		ValueFrom: &casesv1alpha1.ValueSource{SecretKeyRef: &casesv1alpha1.KeyReference{Name: "routing", Key: "priority"}}}})
	obj.Spec.SyncPolicy = casesv1alpha1.SyncPolicyEnforce
	peer := h.newObject("neighbour", "case-1", casesv1alpha1.CaseField{ID: "priority", Value: str("low")})
	g.Expect(k8sClient.Create(ctx, obj)).To(Succeed())
	g.Expect(k8sClient.Create(ctx, peer)).To(Succeed())
	for _, o := range []*casesv1alpha1.CaseFieldUpdate{obj, peer} {
		g.Eventually(h.readyReasonOf(o), timeout, interval).Should(Equal(casesv1alpha1.AppliedReason))
	}
	g.Expect(h.updateCalls("case-1")).To(Equal(2))

	setPriority := func(v string) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(secret), secret)).To(Succeed())
		secret.StringData = map[string]string{"priority": v}
		g.Expect(k8sClient.Update(ctx, secret)).To(Succeed())
	}
	setPriority("high")
	for _, o := range []*casesv1alpha1.CaseFieldUpdate{obj, peer} {
		g.Eventually(h.readyReasonOf(o), timeout, interval).Should(Equal(casesv1alpha1.FieldConflictReason))
	}
	g.Expect(h.updateCalls("case-1")).To(Equal(2), "a conflict sends nothing")
	g.Expect(h.caseText("case-1", "priority")()).To(Equal("low"))

	h.annotate(obj, casesv1alpha1.ReconcileRequestedAtAnnotation, "during-the-conflict")
	g.Eventually(func() string { return h.get(obj).Status.LastHandledReconcileAt }, timeout, interval).Should(Equal("during-the-conflict"))
	g.Expect(readyReason(h.get(obj))).To(Equal(casesv1alpha1.FieldConflictReason))
	g.Expect(h.updateCalls("case-1")).To(Equal(2), "the request is acknowledged, the conflict still holds")

	setPriority("low")
	for _, o := range []*casesv1alpha1.CaseFieldUpdate{obj, peer} {
		g.Eventually(h.readyReasonOf(o), timeout, interval).Should(Equal(casesv1alpha1.AppliedReason))
	}
	g.Expect(h.updateCalls("case-1")).To(Equal(4), "each side applies once when the conflict ends")
	g.Expect(h.caseText("case-1", "priority")()).To(Equal("low"))
}
