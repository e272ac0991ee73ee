package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/cases"
	"github.com/connectcases-operator/connectcases-operator/internal/emulator"
)

// TestEnforceSoak runs 50 Enforce objects, a third by id, a third by name
// and a third from a Secret, through at least five resync intervals with
// nothing changed: no UpdateCase and no drift. Then 10 cases drift: exactly
// 10 repairs. GetCase runs at the published quota, paced by the limiter.
func TestEnforceSoak(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	const n, drifting, resyncs = 50, 10, 5
	const resync = 30 * time.Second
	// The cases are created at once; GetCase keeps its published quota.
	h := newHarness(t, harnessOptions{quotas: map[string]emulator.Quota{"CreateCase": {RPS: 1000, Burst: 1000}}})
	h.startManager(func(r *CaseFieldUpdateReconciler) {
		h.withCatalog(r)
		r.EnableValueFrom = true
		r.Limiter = cases.NewLimiter(map[string]cases.Limit{"UpdateCase": {RPS: 1000, Burst: 1000}, "GetCase": {RPS: 4, Burst: 10}})
		r.Catalog = cases.NewCatalog(h.cases, r.Limiter, time.Hour, DefaultMaxLimiterWait)
	})
	ctx := context.Background()
	g.Expect(k8sClient.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "soak", Namespace: h.namespace},
		StringData: map[string]string{"priority": "high", "escalated": "true"}})).To(Succeed())

	objs := make([]*casesv1alpha1.CaseFieldUpdate, 0, n)
	for i := range n {
		out, err := h.cases.CreateCase(ctx, &connectcases.CreateCaseInput{DomainId: aws.String("domain-1"), TemplateId: aws.String("template-1"),
			Fields: []types.FieldValue{{Id: aws.String("summary"), Value: &types.FieldValueUnionMemberStringValue{Value: "soak"}}}})
		g.Expect(err).NotTo(HaveOccurred())
		addr := []addressing{byID, byNameLit, fromSecretA}[i%3]
		obj := h.newObject(fmt.Sprintf("soak-%02d", i), aws.ToString(out.CaseId),
			soakField(addr, "priority", "Priority", str("high")), soakField(addr, "escalated", "Escalated", boolean(true)))
		obj.Spec.SyncPolicy = casesv1alpha1.SyncPolicyEnforce
		obj.Spec.ResyncInterval = &metav1.Duration{Duration: resync}
		g.Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		objs = append(objs, obj)
	}
	for _, obj := range objs {
		g.Eventually(h.readyReasonOf(obj), 2*timeout, interval).Should(Equal(casesv1alpha1.AppliedReason))
	}
	g.Expect(h.emu.CallCount("UpdateCase", "OK")).To(Equal(n))

	// Five resyncs of every object, nothing changed.
	for _, obj := range objs {
		g.Eventually(func() int { return h.casesCalls("GetCase", obj.Spec.CaseID) }, resyncs*resync+3*timeout, time.Second).
			Should(BeNumerically(">=", resyncs), obj.Name)
	}
	g.Expect(h.emu.CallCount("UpdateCase", "OK")).To(Equal(n), "nothing drifted: nothing applied")
	g.Expect(h.namespaceEvents(g, casesv1alpha1.DriftDetectedReason)).To(BeZero())
	for _, obj := range objs {
		cur := h.get(obj)
		g.Expect(condition(cur, casesv1alpha1.ReconcilingCondition)).To(BeNil(), obj.Name)
		g.Expect(condition(cur, casesv1alpha1.StalledCondition)).To(BeNil(), obj.Name)
	}

	// Ten cases drift, one of each addressing at least.
	for _, obj := range objs[:drifting] {
		g.Expect(h.emu.SetCaseField("domain-1", obj.Spec.CaseID, "priority", emulator.StringValue("low"))).To(Succeed())
	}
	g.Eventually(func() int { return h.emu.CallCount("UpdateCase", "OK") }, 2*resync+timeout, time.Second).Should(Equal(n + drifting))
	g.Eventually(func(g Gomega) int { return h.namespaceEvents(g, casesv1alpha1.DriftDetectedReason) }, timeout, interval).Should(Equal(drifting))
	for _, obj := range objs[:drifting] {
		values, _ := h.emu.CaseFields("domain-1", obj.Spec.CaseID)
		g.Expect(*values["priority"].StringValue).To(Equal("high"), obj.Name)
	}
	// One more check of the repaired cases finds them as the spec says.
	checks := map[string]int{}
	for _, obj := range objs[:drifting] {
		checks[obj.Name] = h.casesCalls("GetCase", obj.Spec.CaseID)
	}
	for _, obj := range objs[:drifting] {
		g.Eventually(func() int { return h.casesCalls("GetCase", obj.Spec.CaseID) }, 2*resync+timeout, time.Second).Should(BeNumerically(">", checks[obj.Name]), obj.Name)
	}
	g.Expect(h.emu.CallCount("UpdateCase", "OK")).To(Equal(n+drifting), "exactly one repair per drift")
}

// soakField is a field of the soak, given by id, by name, or by name with its
// value from the soak's Secret.
func soakField(addr addressing, id, name string, literal casesv1alpha1.FieldValue) casesv1alpha1.CaseField {
	if addr == fromSecretA {
		return casesv1alpha1.CaseField{Name: name, Value: casesv1alpha1.FieldValue{ValueFrom: &casesv1alpha1.ValueSource{
			SecretKeyRef: &casesv1alpha1.KeyReference{Name: "soak", Key: id}}}}
	}
	return matrixField(addr, id, name, literal)
}

// namespaceEvents counts the Events of the harness's namespace with a reason.
func (h *harness) namespaceEvents(g Gomega, reason string) int {
	list := &eventsv1.EventList{}
	g.Expect(k8sClient.List(context.Background(), list, client.InNamespace(h.namespace))).To(Succeed())
	n := 0
	for _, e := range list.Items {
		if e.Reason == reason {
			n++
		}
	}
	return n
}
