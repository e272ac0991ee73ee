package controllers

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

// The tests of this file each hold one defect of features used together, and
// fail on the reconciler that had it.

// withValueFrom turns on the field catalog and valueFrom, as the manager
// does with --enable-value-from.
func (h *harness) withValueFrom(r *CaseFieldUpdateReconciler) {
	h.withCatalog(r)
	r.EnableValueFrom = true
}

// switchingCases sends UpdateCase through one client and GetCase through
// another that a test can swap, both real SDK clients of the emulator.
type switchingCases struct {
	update *connectcases.Client
	get    atomic.Pointer[connectcases.Client]
}

func (s *switchingCases) UpdateCase(ctx context.Context, in *connectcases.UpdateCaseInput, optFns ...func(*connectcases.Options)) (*connectcases.UpdateCaseOutput, error) {
	return s.update.UpdateCase(ctx, in, optFns...)
}

func (s *switchingCases) GetCase(ctx context.Context, in *connectcases.GetCaseInput, optFns ...func(*connectcases.Options)) (*connectcases.GetCaseOutput, error) {
	return s.get.Load().GetCase(ctx, in, optFns...)
}

// A failed drift read used to be only logged: the object stayed Ready with
// nothing on it. It now shows on the object and clears once a check passes.
func TestDriftReadFailureShowsAndClears(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	h := newHarness(t, harnessOptions{})
	denied := h.newCasesClient("AKIDNOGETCASE", "no-getcase-secret-access-key")
	sw := &switchingCases{update: h.cases}
	sw.get.Store(denied)
	h.startManager(func(r *CaseFieldUpdateReconciler) {
		r.Cases = sw
		r.StalledRetryInterval = 3 * time.Second
	})
	ctx := context.Background()

	obj := h.newObject("enforced", "case-4", stringField("priority", "high"))
	obj.Spec.SyncPolicy = casesv1alpha1.SyncPolicyEnforce
	obj.Spec.ResyncInterval = &metav1.Duration{Duration: 30 * time.Second}
	g.Expect(k8sClient.Create(ctx, obj)).To(Succeed())
	g.Eventually(h.readyReasonOf(obj), timeout, interval).Should(Equal(casesv1alpha1.AppliedReason))

	// At the resync, GetCase is refused.
	g.Eventually(func(g Gomega) {
		cur := h.get(obj)
		stalled := condition(cur, casesv1alpha1.StalledCondition)
		g.Expect(stalled).NotTo(BeNil())
		g.Expect(stalled.Reason).To(Equal(casesv1alpha1.AccessDeniedReason))
		g.Expect(stalled.Message).To(HavePrefix("The spec is applied, but checking the case failed: AccessDeniedException"))
		ready := condition(cur, casesv1alpha1.ReadyCondition)
		g.Expect(ready.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(ready.Message).To(Equal("Applied 1 field to case case-4 in domain domain-1; checking the case fails: AccessDenied"))
		g.Expect(cur.Status.Failures).To(BeNumerically(">=", 1))
	}, 3*timeout, interval).Should(Succeed())
	g.Eventually(h.eventReasons(obj), timeout, interval).Should(Equal([]string{"Normal/Applied", "Warning/AccessDenied"}))
	g.Expect(h.updateCalls("case-4")).To(Equal(1), "a failed check applies nothing")

	// The retries keep to the stalled interval: far fewer than one a second.
	first := h.casesCalls("GetCase", "case-4")
	g.Consistently(func() int { return h.casesCalls("GetCase", "case-4") }, 2*time.Second, interval).Should(BeNumerically("<=", first+1))

	// Access is granted: the next check passes and clears the failure.
	sw.get.Store(h.cases)
	g.Eventually(func(g Gomega) {
		cur := h.get(obj)
		g.Expect(condition(cur, casesv1alpha1.StalledCondition)).To(BeNil())
		g.Expect(readyMessage(cur)).To(Equal("Applied 1 field to case case-4 in domain domain-1"))
		g.Expect(cur.Status.Failures).To(BeZero())
	}, timeout, interval).Should(Succeed())
	g.Expect(h.updateCalls("case-4")).To(Equal(1), "nothing drifted")
}

// A Secret whose value failed the pre-check used to leave the object settled
// for good: fixing the Secret did nothing.
func TestFixingASecretRerunsTheObjectItFailed(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t, harnessOptions{})
	h.startManager(h.withValueFrom)
	ctx := context.Background()
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "score", Namespace: h.namespace}, StringData: map[string]string{"value": "not-a-number"}}
	g.Expect(k8sClient.Create(ctx, secret)).To(Succeed())

	obj := h.newObject("from-secret", "case-5", fromSecret("score", "score", "value"))
	g.Expect(k8sClient.Create(ctx, obj)).To(Succeed())
	g.Eventually(h.readyReasonOf(obj), timeout, interval).Should(Equal(casesv1alpha1.ValidationErrorReason))
	g.Expect(h.get(obj).Status.References).To(HaveLen(1), "the failed attempt remembers what it read")

	cur := &corev1.Secret{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(secret), cur)).To(Succeed())
	cur.StringData = map[string]string{"value": "3.5"}
	g.Expect(k8sClient.Update(ctx, cur)).To(Succeed())
	g.Eventually(h.readyReasonOf(obj), timeout, interval).Should(Equal(casesv1alpha1.AppliedReason))
	values, _ := h.emu.CaseFields("domain-1", "case-5")
	g.Expect(*values["score"].DoubleValue).To(Equal(3.5))
}

// A reconcile request used to be acknowledged only once UpdateCase was
// reached: on a pre-check failure it was never echoed.
func TestReconcileRequestIsAcknowledgedOnAFailure(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t, harnessOptions{})
	h.startManager(h.withCatalog)
	ctx := context.Background()

	obj := h.newObject("invalid", "case-6", stringField("escalated", "yes"))
	g.Expect(k8sClient.Create(ctx, obj)).To(Succeed())
	g.Eventually(h.readyReasonOf(obj), timeout, interval).Should(Equal(casesv1alpha1.ValidationErrorReason))
	h.annotate(obj, casesv1alpha1.ReconcileRequestedAtAnnotation, "retry-1")
	g.Eventually(func() string { return h.get(obj).Status.LastHandledReconcileAt }, timeout, interval).Should(Equal("retry-1"))
	g.Expect(readyReason(h.get(obj))).To(Equal(casesv1alpha1.ValidationErrorReason))
	g.Expect(h.updateCalls("case-6")).To(BeZero())
}

// A conflict over many long field ids used to make a condition message over
// 32 KiB, which failed the whole status patch, and an Event note over 1 KiB,
// which the API server refused.
func TestLongMessagesAreCutToFit(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t, harnessOptions{})
	h.startManager(nil)
	ctx := context.Background()

	fields := func(value string) []casesv1alpha1.CaseField {
		out := make([]casesv1alpha1.CaseField, 0, 220)
		for i := range 220 {
			out = append(out, stringField(fmt.Sprintf("field-%03d-%s", i, strings.Repeat("x", 140)), value))
		}
		return out
	}
	a := h.newObject("long-a", "case-7", fields("a")...)
	b := h.newObject("long-b", "case-7", fields("b")...)
	b.Annotations = map[string]string{casesv1alpha1.PausedAnnotation: "true"}
	g.Expect(k8sClient.Create(ctx, b)).To(Succeed())
	g.Expect(k8sClient.Create(ctx, a)).To(Succeed())

	g.Eventually(h.readyReasonOf(a), timeout, interval).Should(Equal(casesv1alpha1.FieldConflictReason))
	msg := readyMessage(h.get(a))
	g.Expect(len(msg)).To(BeNumerically("<=", maxConditionMessage))
	g.Expect(msg).To(HaveSuffix(cutMarker))
	g.Expect(msg).To(HavePrefix("Case case-7 in domain domain-1: field field-000-"))
	g.Eventually(func(g Gomega) {
		events := h.events(g, a)
		g.Expect(events).To(HaveLen(1))
		g.Expect(events[0].Reason).To(Equal(casesv1alpha1.FieldConflictReason))
		g.Expect(len(events[0].Note)).To(BeNumerically("<=", maxEventNote))
		g.Expect(events[0].Note).To(HaveSuffix(cutMarker))
	}, timeout, interval).Should(Succeed())
	g.Expect(h.updateCalls("case-7")).To(BeZero())
}

// A missing case used to drop the domain's whole field catalog at every
// retry, so each retry read the fields again.
func TestMissingCaseKeepsTheFieldCatalog(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t, harnessOptions{})
	h.startManager(func(r *CaseFieldUpdateReconciler) {
		h.withCatalog(r)
		r.StalledRetryInterval = time.Second
	})
	ctx := context.Background()

	obj := h.newObject("no-case", "case-missing", byName("Priority", casesv1alpha1.FieldValue{StringValue: new("high")}))
	g.Expect(k8sClient.Create(ctx, obj)).To(Succeed())
	g.Eventually(h.readyReasonOf(obj), timeout, interval).Should(Equal(casesv1alpha1.ResourceNotFoundReason))
	// Three more retries, each a ResourceNotFound for the case.
	g.Eventually(func() int { return h.updateCalls("case-missing") }, timeout, interval).Should(BeNumerically(">=", 4))
	g.Expect(h.emu.CallCount("ListFields", "OK")).To(Equal(1), "the catalog was read once")
	g.Expect(h.emu.CallCount("ListFieldOptions", "OK")).To(Equal(1))
}

// TestTTLAfterApplied deletes one-shot objects once applied, and keeps
// those that are not applied.
func TestTTLAfterApplied(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t, harnessOptions{})
	h.startManager(h.withCatalog)
	ctx := context.Background()
	ttl := func(obj *casesv1alpha1.CaseFieldUpdate, seconds int32) *casesv1alpha1.CaseFieldUpdate {
		obj.Spec.TTLSecondsAfterApplied = &seconds
		return obj
	}
	now := ttl(h.newObject("one-shot", "case-1", stringField("priority", "high")), 0)
	later := ttl(h.newObject("one-shot-later", "case-2", stringField("priority", "low")), 3)
	invalid := ttl(h.newObject("one-shot-invalid", "case-3", stringField("escalated", "yes")), 0)
	paused := ttl(h.newObject("one-shot-paused", "case-4", stringField("priority", "high")), 0)
	paused.Annotations = map[string]string{casesv1alpha1.PausedAnnotation: "true"}
	for _, obj := range []*casesv1alpha1.CaseFieldUpdate{now, later, invalid, paused} {
		g.Expect(k8sClient.Create(ctx, obj)).To(Succeed())
	}

	gone := func(obj *casesv1alpha1.CaseFieldUpdate) func() bool {
		return func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), &casesv1alpha1.CaseFieldUpdate{}))
		}
	}
	g.Eventually(gone(now), timeout, interval).Should(BeTrue())
	values, _ := h.emu.CaseFields("domain-1", "case-1")
	g.Expect(*values["priority"].StringValue).To(Equal("high"), "the case keeps the applied value")
	g.Expect(h.updateCalls("case-1")).To(Equal(1))
	g.Eventually(h.eventReasons(now), timeout, interval).Should(Equal([]string{"Normal/Applied", "Normal/Expired"}))

	g.Eventually(h.readyReasonOf(later), timeout, interval).Should(Equal(casesv1alpha1.AppliedReason))
	g.Eventually(gone(later), timeout, interval).Should(BeTrue())
	applied := h.emu.CallCount("UpdateCase", "OK")

	// Neither a failed nor a paused object is applied, so neither expires.
	g.Eventually(h.readyReasonOf(invalid), timeout, interval).Should(Equal(casesv1alpha1.ValidationErrorReason))
	g.Eventually(h.readyReasonOf(paused), timeout, interval).Should(Equal(casesv1alpha1.PausedReason))
	g.Consistently(func() bool { return gone(invalid)() || gone(paused)() }, 3*time.Second, interval).Should(BeFalse())
	g.Expect(h.emu.CallCount("UpdateCase", "OK")).To(Equal(applied))
}

// A rejection of one field used to drop the domain's whole catalog: every
// object of the domain then read the fields again. Now only the fields of
// the rejected request are read again.
func TestRejectionForgetsOnlyItsFields(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t, harnessOptions{})
	h.startManager(h.withCatalog)
	ctx := context.Background()

	first := h.newObject("by-name", "case-1", byName("Priority", casesv1alpha1.FieldValue{StringValue: new("high")}))
	g.Expect(k8sClient.Create(ctx, first)).To(Succeed())
	g.Eventually(h.readyReasonOf(first), timeout, interval).Should(Equal(casesv1alpha1.AppliedReason))

	// The template requires summary: the service refuses to empty it.
	rejected := h.newObject("empties-summary", "case-2", casesv1alpha1.CaseField{ID: "summary", Value: casesv1alpha1.FieldValue{EmptyValue: &casesv1alpha1.EmptyValue{}}})
	g.Expect(k8sClient.Create(ctx, rejected)).To(Succeed())
	g.Eventually(h.readyReasonOf(rejected), timeout, interval).Should(Equal(casesv1alpha1.ValidationErrorReason))
	g.Expect(condition(h.get(rejected), casesv1alpha1.ReadyCondition).Message).To(HavePrefix("ValidationException"))

	second := h.newObject("by-name-later", "case-3", byName("Escalated", casesv1alpha1.FieldValue{BooleanValue: new(true)}))
	g.Expect(k8sClient.Create(ctx, second)).To(Succeed())
	g.Eventually(h.readyReasonOf(second), timeout, interval).Should(Equal(casesv1alpha1.AppliedReason))
	g.Expect(h.emu.CallCount("ListFields", "OK")).To(Equal(1), "the domain's fields were listed once")
}

// An AWS message that quotes a value taken from a Secret is recorded with
// the value redacted, in the status, the Events and the logs. The option is
// deactivated behind the cached catalog's back, so the pre-check passes and
// the emulator's own message quotes the value.
func TestSecretValuesAreRedactedFromAWSMessages(t *testing.T) {
	g := NewWithT(t)
	logs := &syncBuffer{}
	h := newHarness(t, harnessOptions{logs: logs})
	h.startManager(h.withValueFrom)
	ctx := context.Background()
	const secretOption = "low"
	g.Expect(k8sClient.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "routing", Namespace: h.namespace},
		StringData: map[string]string{"priority": secretOption}})).To(Succeed())

	// The first object loads the options into the catalog.
	first := h.newObject("first", "case-1", fromSecret("priority", "routing", "priority"))
	g.Expect(k8sClient.Create(ctx, first)).To(Succeed())
	g.Eventually(h.readyReasonOf(first), timeout, interval).Should(Equal(casesv1alpha1.AppliedReason))
	_, err := h.cases.BatchPutFieldOptions(ctx, &connectcases.BatchPutFieldOptionsInput{DomainId: aws.String("domain-1"), FieldId: aws.String("priority"),
		Options: []types.FieldOption{{Name: aws.String("Low"), Value: aws.String(secretOption), Active: aws.Bool(false)}}})
	g.Expect(err).NotTo(HaveOccurred())

	second := h.newObject("second", "case-2", fromSecret("priority", "routing", "priority"))
	g.Expect(k8sClient.Create(ctx, second)).To(Succeed())
	g.Eventually(h.readyReasonOf(second), timeout, interval).Should(Equal(casesv1alpha1.ValidationErrorReason))
	msg := readyMessage(h.get(second))
	g.Expect(msg).To(HavePrefix("ValidationException"), "the service's message, not the pre-check's")
	g.Expect(msg).To(ContainSubstring(redactedMarker))
	g.Expect(h.emu.Calls().Recent[len(h.emu.Calls().Recent)-1].Message).To(ContainSubstring(secretOption), "the emulator quoted the value")

	var recorded strings.Builder
	fmt.Fprintf(&recorded, "%+v\n", h.get(second).Status)
	g.Eventually(func(g Gomega) []string { return eventsOf(h, g, second) }, timeout, interval).ShouldNot(BeEmpty())
	for _, e := range eventsOf(h, g, second) {
		fmt.Fprintln(&recorded, e)
	}
	g.Expect(recorded.String()).To(ContainSubstring("ValidationException"))
	g.Expect(recorded.String()).NotTo(ContainSubstring(`"` + secretOption + `"`))
	g.Expect(recorded.String()).NotTo(ContainSubstring(`'` + secretOption + `'`))
	g.Expect(logs.String()).To(ContainSubstring("UpdateCase failed"))
	g.Expect(logs.String()).NotTo(MatchRegexp(`UpdateCase failed.*\W` + secretOption + `\W`))
}

// eventsOf returns the notes of the Events about obj.
func eventsOf(h *harness, g Gomega, obj *casesv1alpha1.CaseFieldUpdate) []string {
	var out []string
	for _, e := range h.events(g, obj) {
		out = append(out, e.Note)
	}
	return out
}
