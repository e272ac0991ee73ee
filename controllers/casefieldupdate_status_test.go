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
