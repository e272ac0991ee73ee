package controllers

import (
	"errors"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

func TestSetStatus(t *testing.T) {
	t0 := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	t1 := metav1.NewTime(t0.Add(time.Minute))
	newObj := func() *casesv1alpha1.CaseFieldUpdate {
		o := &casesv1alpha1.CaseFieldUpdate{Spec: casesv1alpha1.CaseFieldUpdateSpec{DomainID: "d", CaseID: "c",
			Fields: []casesv1alpha1.CaseField{{ID: "a"}, {ID: "b"}}}}
		o.Generation = 3
		return o
	}
	type cond struct {
		status metav1.ConditionStatus
		reason string
	}
	tests := map[string]struct {
		prepare        func(o *casesv1alpha1.CaseFieldUpdate)
		outcome        Outcome
		called         bool
		wantConditions map[string]cond
		wantFailures   int32
		wantRequestID  string
		wantApplied    *metav1.Time
	}{
		"applied": {
			outcome: appliedOutcome(newObj(), "r-1"), called: true,
			wantConditions: map[string]cond{casesv1alpha1.ReadyCondition: {metav1.ConditionTrue, casesv1alpha1.AppliedReason}},
			wantRequestID:  "r-1", wantApplied: &t1,
		},
		"applied after failures clears them": {
			prepare: func(o *casesv1alpha1.CaseFieldUpdate) {
				setStatus(o, Outcome{Reason: casesv1alpha1.ThrottledReason, Retry: RetryBackoff}, true, t0)
				setStatus(o, Outcome{Reason: casesv1alpha1.ThrottledReason, Retry: RetryBackoff}, true, t0)
			},
			outcome: appliedOutcome(newObj(), "r-2"), called: true,
			wantConditions: map[string]cond{casesv1alpha1.ReadyCondition: {metav1.ConditionTrue, casesv1alpha1.AppliedReason}},
			wantRequestID:  "r-2", wantApplied: &t1,
		},
		"throttled is reconciling": {
			outcome: Outcome{Reason: casesv1alpha1.ThrottledReason, Message: "m", RequestID: "r-3", Retry: RetryBackoff}, called: true,
			wantConditions: map[string]cond{
				casesv1alpha1.ReadyCondition:       {metav1.ConditionFalse, casesv1alpha1.ThrottledReason},
				casesv1alpha1.ReconcilingCondition: {metav1.ConditionTrue, casesv1alpha1.ThrottledReason},
			},
			wantFailures: 1, wantRequestID: "r-3",
		},
		"stalled replaces reconciling": {
			prepare: func(o *casesv1alpha1.CaseFieldUpdate) {
				setStatus(o, Outcome{Reason: casesv1alpha1.NetworkErrorReason, Retry: RetryBackoff}, true, t0)
			},
			outcome: Outcome{Reason: casesv1alpha1.AccessDeniedReason, Message: "m", RequestID: "r-4", Retry: RetryStalled}, called: true,
			wantConditions: map[string]cond{
				casesv1alpha1.ReadyCondition:   {metav1.ConditionFalse, casesv1alpha1.AccessDeniedReason},
				casesv1alpha1.StalledCondition: {metav1.ConditionTrue, casesv1alpha1.AccessDeniedReason},
			},
			wantFailures: 2, wantRequestID: "r-4",
		},
		"local validation keeps the last request id": {
			prepare: func(o *casesv1alpha1.CaseFieldUpdate) {
				setStatus(o, appliedOutcome(o, "r-5"), true, t0)
			},
			outcome: localValidationOutcome(errors.New("spec.fields[0] repeats a field")), called: false,
			wantConditions: map[string]cond{
				casesv1alpha1.ReadyCondition:   {metav1.ConditionFalse, casesv1alpha1.ValidationErrorReason},
				casesv1alpha1.StalledCondition: {metav1.ConditionTrue, casesv1alpha1.ValidationErrorReason},
			},
			wantFailures: 1, wantRequestID: "r-5", wantApplied: &t0,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			o := newObj()
			if tc.prepare != nil {
				tc.prepare(o)
			}
			setStatus(o, tc.outcome, tc.called, t1)
			g.Expect(o.Status.ObservedGeneration).To(Equal(int64(3)))
			g.Expect(o.Status.Failures).To(Equal(tc.wantFailures))
			g.Expect(o.Status.LastRequestID).To(Equal(tc.wantRequestID))
			g.Expect(o.Status.LastAppliedTime).To(Equal(tc.wantApplied))
			got := map[string]cond{}
			for _, c := range o.Status.Conditions {
				got[c.Type] = cond{c.Status, c.Reason}
				g.Expect(c.ObservedGeneration).To(Equal(int64(3)))
			}
			g.Expect(got).To(Equal(tc.wantConditions))
		})
	}
}

func TestSetStatusKeepsTransitionTime(t *testing.T) {
	g := NewWithT(t)
	o := &casesv1alpha1.CaseFieldUpdate{}
	o.Generation = 1
	t0 := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	throttled := Outcome{Reason: casesv1alpha1.ThrottledReason, Message: "m", Retry: RetryBackoff}
	setStatus(o, throttled, true, t0)
	first := meta.FindStatusCondition(o.Status.Conditions, casesv1alpha1.ReadyCondition).LastTransitionTime
	setStatus(o, throttled, true, metav1.NewTime(t0.Add(time.Hour)))
	g.Expect(meta.FindStatusCondition(o.Status.Conditions, casesv1alpha1.ReadyCondition).LastTransitionTime).To(Equal(first))
}

func TestIsSettled(t *testing.T) {
	obj := func(gen, observed int64, status metav1.ConditionStatus, reason string) *casesv1alpha1.CaseFieldUpdate {
		o := &casesv1alpha1.CaseFieldUpdate{}
		o.Generation = gen
		o.Status.ObservedGeneration = observed
		o.Status.Conditions = []metav1.Condition{{Type: casesv1alpha1.ReadyCondition, Status: status, Reason: reason, ObservedGeneration: observed}}
		return o
	}
	tests := map[string]struct {
		obj  *casesv1alpha1.CaseFieldUpdate
		want bool
	}{
		"applied at this generation":     {obj(2, 2, metav1.ConditionTrue, casesv1alpha1.AppliedReason), true},
		"applied at an older generation": {obj(3, 2, metav1.ConditionTrue, casesv1alpha1.AppliedReason), false},
		"invalid at this generation":     {obj(2, 2, metav1.ConditionFalse, casesv1alpha1.ValidationErrorReason), true},
		"not found at this generation":   {obj(2, 2, metav1.ConditionFalse, casesv1alpha1.ResourceNotFoundReason), false},
		"throttled at this generation":   {obj(2, 2, metav1.ConditionFalse, casesv1alpha1.ThrottledReason), false},
		"never observed":                 {&casesv1alpha1.CaseFieldUpdate{ObjectMeta: metav1.ObjectMeta{Generation: 1}}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			NewWithT(t).Expect(isSettled(tc.obj)).To(Equal(tc.want))
		})
	}
}

// TestSettersUseTheGivenClock checks that every setter stamps the time it is
// given, never the wall clock.
func TestSettersUseTheGivenClock(t *testing.T) {
	t0 := metav1.NewTime(time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC))
	applied := func() *casesv1alpha1.CaseFieldUpdate {
		o := &casesv1alpha1.CaseFieldUpdate{Spec: casesv1alpha1.CaseFieldUpdateSpec{DomainID: "d", CaseID: "c", Fields: []casesv1alpha1.CaseField{{ID: "a"}}}}
		o.Generation = 1
		return o
	}
	failure := Outcome{Reason: casesv1alpha1.AccessDeniedReason, Message: "AccessDeniedException: no", Retry: RetryStalled}
	tests := map[string]func(o *casesv1alpha1.CaseFieldUpdate){
		"setStatus":         func(o *casesv1alpha1.CaseFieldUpdate) { setStatus(o, failure, true, t0) },
		"setCheckFailed":    func(o *casesv1alpha1.CaseFieldUpdate) { setCheckFailed(o, failure, t0) },
		"setPaused":         func(o *casesv1alpha1.CaseFieldUpdate) { setPaused(o, t0) },
		"setStatus Applied": func(o *casesv1alpha1.CaseFieldUpdate) { setStatus(o, appliedOutcome(o, "r"), true, t0) },
	}
	for name, set := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			o := applied()
			set(o)
			g.Expect(o.Status.Conditions).NotTo(BeEmpty())
			for _, c := range o.Status.Conditions {
				g.Expect(c.LastTransitionTime).To(Equal(t0), c.Type)
			}
		})
	}
}

// TestCheckFailureKeepsTheSpecApplied covers what a failed drift check does
// to an applied object, and how a good check clears it.
func TestCheckFailureKeepsTheSpecApplied(t *testing.T) {
	g := NewWithT(t)
	t0 := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	t1 := metav1.NewTime(t0.Add(time.Minute))
	o := &casesv1alpha1.CaseFieldUpdate{Spec: casesv1alpha1.CaseFieldUpdateSpec{DomainID: "d", CaseID: "c", Fields: []casesv1alpha1.CaseField{{ID: "a"}, {ID: "b"}}}}
	o.Generation = 2
	setStatus(o, appliedOutcome(o, "r-1"), true, t0)

	setCheckFailed(o, Outcome{Reason: casesv1alpha1.AccessDeniedReason, Message: "AccessDeniedException: denied", Retry: RetryStalled}, t1)
	ready := meta.FindStatusCondition(o.Status.Conditions, casesv1alpha1.ReadyCondition)
	g.Expect(ready.Status).To(Equal(metav1.ConditionTrue))
	g.Expect(ready.Reason).To(Equal(casesv1alpha1.AppliedReason))
	g.Expect(ready.Message).To(Equal("Applied 2 fields to case c in domain d; checking the case fails: AccessDenied"))
	g.Expect(ready.LastTransitionTime).To(Equal(t0), "Ready did not change status")
	stalled := meta.FindStatusCondition(o.Status.Conditions, casesv1alpha1.StalledCondition)
	g.Expect(stalled.Reason).To(Equal(casesv1alpha1.AccessDeniedReason))
	g.Expect(stalled.Message).To(Equal("The spec is applied, but checking the case failed: AccessDeniedException: denied"))
	g.Expect(o.Status.Failures).To(Equal(int32(1)))
	g.Expect(isApplied(o)).To(BeTrue())
	g.Expect(isSettled(o)).To(BeTrue(), "a failed check does not make the spec unapplied")

	setCheckFailed(o, Outcome{Reason: casesv1alpha1.ThrottledReason, Message: "ThrottlingException", Retry: RetryBackoff}, t1)
	g.Expect(meta.FindStatusCondition(o.Status.Conditions, casesv1alpha1.StalledCondition)).To(BeNil())
	g.Expect(meta.FindStatusCondition(o.Status.Conditions, casesv1alpha1.ReconcilingCondition).Reason).To(Equal(casesv1alpha1.ThrottledReason))
	g.Expect(o.Status.Failures).To(Equal(int32(2)), "the backoff grows")

	settleApplied(o, t1)
	g.Expect(o.Status.Conditions).To(HaveLen(1))
	g.Expect(readyMessage(o)).To(Equal("Applied 2 fields to case c in domain d"))
	g.Expect(o.Status.Failures).To(BeZero())
}

func TestCheckDueIn(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *metav1.Time { m := metav1.NewTime(t0.Add(d)); return &m }
	tests := map[string]struct {
		applied, checked *metav1.Time
		want             time.Duration
	}{
		"never applied":            {want: 0},
		"applied, never checked":   {applied: at(0), want: time.Minute},
		"checked after the apply":  {applied: at(0), checked: at(30 * time.Second), want: 90 * time.Second},
		"due since the last check": {applied: at(-time.Hour), checked: at(-2 * time.Minute), want: -time.Minute},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			o := &casesv1alpha1.CaseFieldUpdate{Spec: casesv1alpha1.CaseFieldUpdateSpec{ResyncInterval: &metav1.Duration{Duration: time.Minute}}}
			o.Status.LastAppliedTime, o.Status.LastCheckedTime = tc.applied, tc.checked
			NewWithT(t).Expect(checkDueIn(o, t0)).To(Equal(tc.want))
		})
	}
}
