package controllers

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

// The status setters below are pure functions of the object, the outcome and
// the time they are given: they never read the clock, so that a test can fix
// it. Conditions are set with meta.SetStatusCondition and a
// lastTransitionTime of now, which it keeps when the condition's status does
// not change.

// appliedOutcome is the outcome of a successful UpdateCase call.
func appliedOutcome(obj *casesv1alpha1.CaseFieldUpdate, requestID string) Outcome {
	return Outcome{Reason: casesv1alpha1.AppliedReason, Message: appliedMessage(obj), RequestID: requestID, Retry: RetryNever}
}

// appliedMessage is the message of the Ready condition of an applied object.
func appliedMessage(obj *casesv1alpha1.CaseFieldUpdate) string {
	n := len(obj.Spec.Fields)
	return fmt.Sprintf("Applied %d %s to case %s in domain %s", n, plural(n, "field", "fields"), obj.Spec.CaseID, obj.Spec.DomainID)
}

// localValidationOutcome is the outcome of a spec that failed the local checks
// before any call.
func localValidationOutcome(err error) Outcome {
	return Outcome{Reason: casesv1alpha1.ValidationErrorReason, Message: capitalise(err.Error()), Retry: RetryNever}
}

// setStatus records the outcome of an attempt to apply the current
// generation: Ready, and Reconciling or Stalled for a failure.
func setStatus(obj *casesv1alpha1.CaseFieldUpdate, o Outcome, calledAWS bool, now metav1.Time) {
	st := &obj.Status
	st.ObservedGeneration = obj.Generation
	if calledAWS {
		st.LastRequestID = o.RequestID
	}
	if o.Reason == casesv1alpha1.AppliedReason {
		st.Failures = 0
		st.LastAppliedTime = &now
		setCondition(obj, casesv1alpha1.ReadyCondition, metav1.ConditionTrue, o.Reason, o.Message, now)
		clearProgress(obj)
		return
	}
	st.Failures++
	setCondition(obj, casesv1alpha1.ReadyCondition, metav1.ConditionFalse, o.Reason, o.Message, now)
	setProgress(obj, o, o.Message, now)
}

// setCheckFailed records a failure to check an applied object (its drift
// read, or the resolution of its fields): the spec was applied, so Ready
// stays True and says that the check fails; Reconciling or Stalled carries
// the failure, so that kstatus, Flux and Argo CD see it, and the retry backs
// off like any failure.
func setCheckFailed(obj *casesv1alpha1.CaseFieldUpdate, o Outcome, now metav1.Time) {
	obj.Status.ObservedGeneration = obj.Generation
	obj.Status.Failures++
	setCondition(obj, casesv1alpha1.ReadyCondition, metav1.ConditionTrue, casesv1alpha1.AppliedReason,
		appliedMessage(obj)+"; checking the case fails: "+o.Reason, now)
	setProgress(obj, o, "The spec is applied, but checking the case failed: "+o.Message, now)
}

// settleApplied clears what a failed check left on an applied object once a
// check succeeds again. Other objects are left as they are.
func settleApplied(obj *casesv1alpha1.CaseFieldUpdate, now metav1.Time) {
	if !isApplied(obj) {
		return
	}
	obj.Status.Failures = 0
	setCondition(obj, casesv1alpha1.ReadyCondition, metav1.ConditionTrue, casesv1alpha1.AppliedReason, appliedMessage(obj), now)
	clearProgress(obj)
}

// setPaused shows the pause in the Ready condition. Ready keeps True only if
// the current generation was applied before the pause; Reconciling and
// Stalled go, since no progress is attempted.
func setPaused(obj *casesv1alpha1.CaseFieldUpdate, now metav1.Time) {
	// The pause of this generation is observed: without this, a paused object
	// never applied keeps the default observedGeneration 0 and reads as
	// in progress to kstatus and Argo CD instead of paused.
	obj.Status.ObservedGeneration = obj.Generation
	status := metav1.ConditionFalse
	if isApplied(obj) {
		status = metav1.ConditionTrue
	}
	setCondition(obj, casesv1alpha1.ReadyCondition, status, casesv1alpha1.PausedReason,
		"Reconciliation is paused by the annotation "+casesv1alpha1.PausedAnnotation+": no AWS call is made", now)
	clearProgress(obj)
}

// restoreAfterPause puts back the Applied reason of an object that was
// applied, then paused, then resumed: nothing needs to be sent again for it.
func restoreAfterPause(obj *casesv1alpha1.CaseFieldUpdate, now metav1.Time) {
	if readyReason(obj) == casesv1alpha1.PausedReason && isApplied(obj) {
		setCondition(obj, casesv1alpha1.ReadyCondition, metav1.ConditionTrue, casesv1alpha1.AppliedReason, appliedMessage(obj), now)
	}
}

// setProgress sets Reconciling (a transient failure, retried with backoff)
// or Stalled (anything else) for a failure, and removes the other one.
func setProgress(obj *casesv1alpha1.CaseFieldUpdate, o Outcome, message string, now metav1.Time) {
	set, remove := casesv1alpha1.ReconcilingCondition, casesv1alpha1.StalledCondition
	if o.Stalled() {
		set, remove = remove, set
	}
	setCondition(obj, set, metav1.ConditionTrue, o.Reason, message, now)
	meta.RemoveStatusCondition(&obj.Status.Conditions, remove)
}

// clearProgress removes Reconciling and Stalled.
func clearProgress(obj *casesv1alpha1.CaseFieldUpdate) {
	meta.RemoveStatusCondition(&obj.Status.Conditions, casesv1alpha1.ReconcilingCondition)
	meta.RemoveStatusCondition(&obj.Status.Conditions, casesv1alpha1.StalledCondition)
}

// setCondition sets one condition for the current generation, its message
// cut to what a condition holds.
func setCondition(obj *casesv1alpha1.CaseFieldUpdate, condType string, status metav1.ConditionStatus, reason, message string, now metav1.Time) {
	meta.SetStatusCondition(&obj.Status.Conditions, metav1.Condition{
		Type:               condType,
		Status:             status,
		Reason:             reason,
		Message:            cut(message, maxConditionMessage),
		ObservedGeneration: obj.Generation,
		LastTransitionTime: now,
	})
}

// readyReason returns the reason of obj's Ready condition, "" when unset.
func readyReason(obj *casesv1alpha1.CaseFieldUpdate) string {
	if c := meta.FindStatusCondition(obj.Status.Conditions, casesv1alpha1.ReadyCondition); c != nil {
		return c.Reason
	}
	return ""
}

// readyMessage returns the message of obj's Ready condition.
func readyMessage(obj *casesv1alpha1.CaseFieldUpdate) string {
	if c := meta.FindStatusCondition(obj.Status.Conditions, casesv1alpha1.ReadyCondition); c != nil {
		return c.Message
	}
	return ""
}

// problem returns the Reconciling or Stalled condition, nil when neither is
// set.
func problem(obj *casesv1alpha1.CaseFieldUpdate) *metav1.Condition {
	if c := meta.FindStatusCondition(obj.Status.Conditions, casesv1alpha1.StalledCondition); c != nil && c.Status == metav1.ConditionTrue {
		return c
	}
	if c := meta.FindStatusCondition(obj.Status.Conditions, casesv1alpha1.ReconcilingCondition); c != nil && c.Status == metav1.ConditionTrue {
		return c
	}
	return nil
}

// isApplied reports whether the current generation was applied: Ready is
// True for it (its reason Applied, or Paused when the pause came after the
// apply).
func isApplied(obj *casesv1alpha1.CaseFieldUpdate) bool {
	c := meta.FindStatusCondition(obj.Status.Conditions, casesv1alpha1.ReadyCondition)
	return obj.Status.ObservedGeneration == obj.Generation && c != nil &&
		c.ObservedGeneration == obj.Generation && c.Status == metav1.ConditionTrue
}

// isSettled reports whether the current generation needs no further call:
// it was applied, or the service (or a local check) rejected it as invalid.
// Both hold until the spec, or a Secret or ConfigMap it reads, changes, and
// across manager restarts, because they are read from the stored status.
func isSettled(obj *casesv1alpha1.CaseFieldUpdate) bool {
	if isApplied(obj) {
		return true
	}
	c := meta.FindStatusCondition(obj.Status.Conditions, casesv1alpha1.ReadyCondition)
	return obj.Status.ObservedGeneration == obj.Generation && c != nil &&
		c.ObservedGeneration == obj.Generation && c.Reason == casesv1alpha1.ValidationErrorReason
}

// isPaused reports whether obj carries the paused annotation.
func isPaused(obj *casesv1alpha1.CaseFieldUpdate) bool {
	return obj.Annotations[casesv1alpha1.PausedAnnotation] == "true"
}

// resyncInterval returns the drift check interval of an Enforce object.
func resyncInterval(obj *casesv1alpha1.CaseFieldUpdate) time.Duration {
	if obj.Spec.ResyncInterval != nil && obj.Spec.ResyncInterval.Duration > 0 {
		return obj.Spec.ResyncInterval.Duration
	}
	return DefaultResyncInterval
}

// checkDueIn returns how long until an applied Enforce object's next drift
// check, zero or less when it is due. A check that failed left the time of
// the last good one, so the retry (after its backoff) finds the check due.
func checkDueIn(obj *casesv1alpha1.CaseFieldUpdate, now time.Time) time.Duration {
	last := obj.Status.LastCheckedTime
	if last == nil {
		last = obj.Status.LastAppliedTime
	}
	if last == nil {
		return 0
	}
	return last.Add(resyncInterval(obj)).Sub(now)
}

// plural returns one or many according to n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
