package controllers

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/cases"
	"github.com/connectcases-operator/connectcases-operator/internal/emulator"
)

func TestPauseAndResume(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t, harnessOptions{})
	h.startManager(nil)
	ctx := context.Background()

	obj := h.newObject("paused", "case-1", stringField("priority", "high"))
	obj.Annotations = map[string]string{casesv1alpha1.PausedAnnotation: "true"}
	g.Expect(k8sClient.Create(ctx, obj)).To(Succeed())
	g.Eventually(func() string { return readyReason(h.get(obj)) }, timeout, interval).Should(Equal(casesv1alpha1.PausedReason))
	g.Expect(h.updateCalls("case-1")).To(BeZero(), "no AWS call while paused")

	// Resuming applies the spec.
	cur := h.get(obj)
	delete(cur.Annotations, casesv1alpha1.PausedAnnotation)
	g.Expect(k8sClient.Update(ctx, cur)).To(Succeed())
	g.Eventually(h.readyReasonOf(obj), timeout, interval).Should(Equal(casesv1alpha1.AppliedReason))
	g.Expect(h.updateCalls("case-1")).To(Equal(1))

	// Pausing an applied object keeps Ready True; resuming sends nothing.
	cur = h.get(obj)
	cur.Annotations = map[string]string{casesv1alpha1.PausedAnnotation: "true"}
	g.Expect(k8sClient.Update(ctx, cur)).To(Succeed())
	g.Eventually(func() string { return readyReason(h.get(obj)) }, timeout, interval).Should(Equal(casesv1alpha1.PausedReason))
	g.Expect(condition(h.get(obj), casesv1alpha1.ReadyCondition).Status).To(Equal(metav1.ConditionTrue))
	cur = h.get(obj)
	cur.Annotations = nil
	g.Expect(k8sClient.Update(ctx, cur)).To(Succeed())
	g.Eventually(h.readyReasonOf(obj), timeout, interval).Should(Equal(casesv1alpha1.AppliedReason))
	g.Expect(h.updateCalls("case-1")).To(Equal(1))
	g.Eventually(h.eventReasons(obj), timeout, interval).Should(Equal([]string{"Normal/Paused", "Normal/Applied", "Normal/Paused"}))
}

func TestReconcileRequestedAtReapplies(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t, harnessOptions{})
	h.startManager(nil)
	ctx := context.Background()

	obj := h.newObject("requested", "case-2", stringField("priority", "high"))
	g.Expect(k8sClient.Create(ctx, obj)).To(Succeed())
	g.Eventually(h.readyReasonOf(obj), timeout, interval).Should(Equal(casesv1alpha1.AppliedReason))
	// Someone changes the case outside of Kubernetes.
	g.Expect(h.emu.SetCaseField("domain-1", "case-2", "priority", emulator.StringValue("low"))).To(Succeed())

	cur := h.get(obj)
	cur.Annotations = map[string]string{casesv1alpha1.ReconcileRequestedAtAnnotation: "2026-11-27T10:00:00Z"}
	g.Expect(k8sClient.Update(ctx, cur)).To(Succeed())
	g.Eventually(func() string { return h.get(obj).Status.LastHandledReconcileAt }, timeout, interval).Should(Equal("2026-11-27T10:00:00Z"))
	g.Expect(h.updateCalls("case-2")).To(Equal(2))
	values, _ := h.emu.CaseFields("domain-1", "case-2")
	g.Expect(*values["priority"].StringValue).To(Equal("high"))
}

func TestEnforceRepairsDrift(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t, harnessOptions{})
	h.startManager(nil)
	ctx := context.Background()

	obj := h.newObject("enforced", "case-3", stringField("priority", "high"), boolField("escalated", true))
	obj.Spec.SyncPolicy = casesv1alpha1.SyncPolicyEnforce
	obj.Spec.ResyncInterval = &metav1.Duration{Duration: 30 * time.Second}
	g.Expect(k8sClient.Create(ctx, obj)).To(Succeed())
	g.Eventually(h.readyReasonOf(obj), timeout, interval).Should(Equal(casesv1alpha1.AppliedReason))
	g.Expect(h.updateCalls("case-3")).To(Equal(1))

	g.Expect(h.emu.SetCaseField("domain-1", "case-3", "priority", emulator.StringValue("low"))).To(Succeed())
	// At the next resync (30s, jittered) the drift is found and repaired.
	g.Eventually(func() string {
		values, _ := h.emu.CaseFields("domain-1", "case-3")
		return *values["priority"].StringValue
	}, 3*timeout, interval).Should(Equal("high"))
	g.Eventually(h.eventReasons(obj), timeout, interval).Should(Equal([]string{"Normal/Applied", "Warning/DriftDetected", "Normal/Applied"}))
	g.Expect(h.updateCalls("case-3")).To(Equal(2))
	g.Expect(h.emu.CallCount("GetCase", "OK")).To(BeNumerically(">=", 1))
	got := h.get(obj)
	g.Expect(got.Status.LastCheckedTime).NotTo(BeNil())
	events := h.events(g, obj)
	g.Expect(events[1].Note).To(Equal("Field priority of case case-3 differs from the spec: applying it again"))
}

func TestFieldConflict(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t, harnessOptions{})
	h.startManager(nil)
	ctx := context.Background()

	a := h.newObject("team-a", "case-1", stringField("priority", "high"), boolField("escalated", true))
	b := h.newObject("team-b", "case-1", stringField("priority", "low"), boolField("escalated", true))
	g.Expect(k8sClient.Create(ctx, a)).To(Succeed())
	g.Expect(k8sClient.Create(ctx, b)).To(Succeed())

	// Whichever came first, both end up reporting the conflict, naming the
	// other, and stay there.
	for _, pair := range [][2]*casesv1alpha1.CaseFieldUpdate{{a, b}, {b, a}} {
		obj, other := pair[0], pair[1]
		g.Eventually(func(g Gomega) {
			cur := h.get(obj)
			c := condition(cur, casesv1alpha1.StalledCondition)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Reason).To(Equal(casesv1alpha1.FieldConflictReason))
			g.Expect(c.Message).To(ContainSubstring("field priority is set to another value by CaseFieldUpdate " + other.Namespace + "/" + other.Name))
			g.Expect(c.Message).NotTo(ContainSubstring("escalated"), "equal values do not conflict")
		}, timeout, interval).Should(Succeed())
	}
	calls := h.updateCalls("case-1")
	g.Expect(calls).To(BeNumerically("<=", 1), "at most the first object was applied before the second appeared")

	// Agreeing on the value ends the conflict on both sides.
	cur := h.get(b)
	cur.Spec.Fields[0] = stringField("priority", "high")
	g.Expect(k8sClient.Update(ctx, cur)).To(Succeed())
	g.Eventually(h.readyReasonOf(a), timeout, interval).Should(Equal(casesv1alpha1.AppliedReason))
	g.Eventually(h.readyReasonOf(b), timeout, interval).Should(Equal(casesv1alpha1.AppliedReason))
	g.Expect(h.updateCalls("case-1")).To(BeNumerically("<=", calls+2))
}

func TestLimiterAdaptsToALoweredQuota(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t, harnessOptions{quotas: map[string]emulator.Quota{"UpdateCase": {RPS: 10, Burst: 10}}})
	lim := cases.NewLimiter(map[string]cases.Limit{"UpdateCase": {RPS: 10, Burst: 10}})
	h.startManager(func(r *CaseFieldUpdateReconciler) {
		r.Limiter = lim
		r.Cases = h.newCasesClientWith(cases.Options{Region: testRegion, NoThrottleRetries: true})
	})
	ctx := context.Background()

	// A steady stream of changes to three cases.
	objs := []*casesv1alpha1.CaseFieldUpdate{
		h.newObject("s1", "case-1", doubleField("score", 0)),
		h.newObject("s2", "case-2", doubleField("score", 0)),
		h.newObject("s3", "case-3", doubleField("score", 0)),
	}
	for _, o := range objs {
		g.Expect(k8sClient.Create(ctx, o)).To(Succeed())
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 1; ; i++ {
			for _, o := range objs {
				select {
				case <-stop:
					return
				default:
				}
				cur := &casesv1alpha1.CaseFieldUpdate{}
				if k8sClient.Get(ctx, client.ObjectKeyFromObject(o), cur) == nil && readyReason(cur) == casesv1alpha1.AppliedReason && cur.Status.ObservedGeneration == cur.Generation {
					cur.Spec.Fields[0].Value.DoubleValue = ptr.To(float64(i))
					_ = k8sClient.Update(ctx, cur)
				}
			}
		}
	}()
	defer func() { close(stop); <-done }()

	g.Eventually(func() int { return h.emu.CallCount("UpdateCase", "OK") }, timeout, interval).Should(BeNumerically(">=", 30))
	h.emu.SetQuota("UpdateCase", emulator.Quota{RPS: 2, Burst: 2})
	g.Eventually(func() int { return h.emu.CallCount("UpdateCase", "ThrottlingException") }, timeout, interval).Should(BeNumerically(">", 0))

	// Within seconds the limiter settles under the new quota: a window of
	// five seconds with calls going through and no throttle.
	g.Eventually(func(g Gomega) {
		since := time.Now().Add(-5 * time.Second)
		ok, throttled := 0, 0
		for _, c := range h.emu.Calls().Recent {
			if c.Operation != "UpdateCase" || c.Time.Before(since) {
				continue
			}
			switch c.Outcome {
			case "ThrottlingException":
				throttled++
			case "OK":
				ok++
			}
		}
		g.Expect(ok).To(BeNumerically(">=", 5))
		g.Expect(throttled).To(BeZero())
	}, 2*timeout, 500*time.Millisecond).Should(Succeed())
	t.Logf("UpdateCase calls: %d OK, %d throttled; client rate %.2f/s", h.emu.CallCount("UpdateCase", "OK"),
		h.emu.CallCount("UpdateCase", "ThrottlingException"), lim.Rate("UpdateCase"))
	g.Expect(lim.Rate("UpdateCase")).To(BeNumerically("<", 10), "the rate came down from its ceiling")
}
