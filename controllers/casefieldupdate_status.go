package controllers

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

// appliedOutcome is the outcome of a successful UpdateCase call.
func appliedOutcome(obj *casesv1alpha1.CaseFieldUpdate, requestID string) Outcome {
	msg := fmt.Sprintf("Applied %d %s to case %s in domain %s", len(obj.Spec.Fields), plural(len(obj.Spec.Fields), "field", "fields"), obj.Spec.CaseID, obj.Spec.DomainID)
	return Outcome{Reason: casesv1alpha1.AppliedReason, Message: msg, RequestID: requestID, Retry: RetryNever}
}

// localValidationOutcome is the outcome of a spec that failed the local checks
// before any call.
func localValidationOutcome(err error) Outcome {
	return Outcome{Reason: casesv1alpha1.ValidationErrorReason, Message: capitalise(err.Error()), Retry: RetryNever}
}

// setStatus records an outcome in the status of obj for its current
// generation. It is a pure function of its inputs: the conditions'
// lastTransitionTime moves only when a condition's status changes.
func setStatus(obj *casesv1alpha1.CaseFieldUpdate, o Outcome, calledAWS bool, now metav1.Time) {
	st := &obj.Status
	gen := obj.Generation
	st.ObservedGeneration = gen
	if calledAWS {
		st.LastRequestID = o.RequestID
	}

	if o.Reason == casesv1alpha1.AppliedReason {
		st.Failures = 0
		st.LastAppliedTime = &now
		setReady(obj, metav1.ConditionTrue, o)
		meta.RemoveStatusCondition(&st.Conditions, casesv1alpha1.ReconcilingCondition)
		meta.RemoveStatusCondition(&st.Conditions, casesv1alpha1.StalledCondition)
		return
	}

	st.Failures++
	setReady(obj, metav1.ConditionFalse, o)
	progress := metav1.Condition{Type: casesv1alpha1.ReconcilingCondition, Status: metav1.ConditionTrue,
		Reason: o.Reason, Message: o.Message, ObservedGeneration: gen}
	remove := casesv1alpha1.StalledCondition
	if o.Stalled() {
		progress.Type = casesv1alpha1.StalledCondition
		remove = casesv1alpha1.ReconcilingCondition
	}
	meta.SetStatusCondition(&st.Conditions, progress)
	meta.RemoveStatusCondition(&st.Conditions, remove)
}

// setReady sets the Ready condition of obj from an outcome.
func setReady(obj *casesv1alpha1.CaseFieldUpdate, status metav1.ConditionStatus, o Outcome) {
	meta.SetStatusCondition(&obj.Status.Conditions, metav1.Condition{
		Type:               casesv1alpha1.ReadyCondition,
		Status:             status,
		Reason:             o.Reason,
		Message:            o.Message,
		ObservedGeneration: obj.Generation,
	})
}

// readyReason returns the reason of obj's Ready condition, "" when unset.
func readyReason(obj *casesv1alpha1.CaseFieldUpdate) string {
	if c := meta.FindStatusCondition(obj.Status.Conditions, casesv1alpha1.ReadyCondition); c != nil {
		return c.Reason
	}
	return ""
}

// isSettled reports whether the current generation needs no further call:
// it was applied, or the service (or a local check) rejected it as invalid.
// Both hold until the spec changes, and across manager restarts, because
// they are read from the stored status.
func isSettled(obj *casesv1alpha1.CaseFieldUpdate) bool {
	if obj.Status.ObservedGeneration != obj.Generation {
		return false
	}
	c := meta.FindStatusCondition(obj.Status.Conditions, casesv1alpha1.ReadyCondition)
	if c == nil || c.ObservedGeneration != obj.Generation {
		return false
	}
	// Ready is True only for a generation that was applied (its reason is
	// Applied, or Paused when the pause came after the apply).
	return c.Status == metav1.ConditionTrue || c.Reason == casesv1alpha1.ValidationErrorReason
}

// plural returns one or many according to n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
