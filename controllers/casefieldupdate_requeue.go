package controllers

import (
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

// RequeuePolicy says how an object is tried again after a transient
// failure: throttling, an internal error of the service, no answer.
type RequeuePolicy string

const (
	// RequeueBackoff is the operator's policy, and the default: the
	// reconcile ends without an error and asks to run again after a
	// jittered exponential backoff that honours the answer's Retry-After.
	RequeueBackoff RequeuePolicy = "backoff"
	// RequeueRateLimiter is a typical controller's: the reconcile ends with
	// ErrTransientFailure, and controller-runtime's default rate limiter
	// (per object exponential from 5 ms to 1000 s, within 10 requeues a
	// second and a burst of 100) decides when it runs again. The status and
	// Events are the same. The benchmarks compare the two.
	RequeueRateLimiter RequeuePolicy = "controller-runtime"
)

// ErrTransientFailure ends a reconcile that recorded a transient failure
// under RequeueRateLimiter.
var ErrTransientFailure = errors.New("transient failure recorded in the status: requeued by controller-runtime's rate limiter")

// requeueByPolicy turns the end of a reconcile that recorded a transient
// failure into ErrTransientFailure under RequeueRateLimiter; any other end,
// and any end under RequeueBackoff, is left as it is.
func (r *CaseFieldUpdateReconciler) requeueByPolicy(s *scope, result ctrl.Result, err error) (ctrl.Result, error) {
	if r.RequeueOnFailure != RequeueRateLimiter || err != nil || s.deleted || !recordedTransientFailure(s) {
		return result, err
	}
	return ctrl.Result{}, fmt.Errorf("%s/%s: %w", s.obj.Namespace, s.obj.Name, ErrTransientFailure)
}

// recordedTransientFailure reports whether the reconcile of s counted a
// failure that is being retried: one more failure, with Reconciling True.
// A stalled object keeps the reconciler's own retry interval, as a typical
// controller treats a terminal error.
func recordedTransientFailure(s *scope) bool {
	return s.obj.Status.Failures > s.before.Status.Failures &&
		meta.IsStatusConditionPresentAndEqual(s.obj.Status.Conditions, casesv1alpha1.ReconcilingCondition, metav1.ConditionTrue)
}
