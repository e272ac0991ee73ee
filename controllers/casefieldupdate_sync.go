package controllers

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/cases"
)

// driftDetected counts the drifts that Enforce objects found and repaired.
var driftDetected = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "connectcases_drift_detected_total",
	Help: "Drifts found by Enforce CaseFieldUpdates: a field of the case differed from the spec and was applied again.",
}, []string{"namespace"})

func init() {
	ctrlmetrics.Registry.MustRegister(driftDetected)
}

// isPaused reports whether obj carries the paused annotation.
func isPaused(obj *casesv1alpha1.CaseFieldUpdate) bool {
	return obj.Annotations[casesv1alpha1.PausedAnnotation] == "true"
}

// setPaused shows the pause in the Ready condition. Ready keeps True only if
// the current generation was applied before the pause; Reconciling and
// Stalled go, since no progress is attempted.
func setPaused(obj *casesv1alpha1.CaseFieldUpdate) {
	// The pause of this generation is observed: without this, a paused object
	// never applied keeps the default observedGeneration 0 and reads as
	// in progress to kstatus and Argo CD instead of paused.
	obj.Status.ObservedGeneration = obj.Generation
	status := metav1.ConditionFalse
	if c := meta.FindStatusCondition(obj.Status.Conditions, casesv1alpha1.ReadyCondition); c != nil &&
		c.Status == metav1.ConditionTrue && c.ObservedGeneration == obj.Generation {
		status = metav1.ConditionTrue
	}
	meta.SetStatusCondition(&obj.Status.Conditions, metav1.Condition{
		Type: casesv1alpha1.ReadyCondition, Status: status, Reason: casesv1alpha1.PausedReason,
		Message:            "Reconciliation is paused by the annotation " + casesv1alpha1.PausedAnnotation + ": no AWS call is made",
		ObservedGeneration: obj.Generation,
	})
	meta.RemoveStatusCondition(&obj.Status.Conditions, casesv1alpha1.ReconcilingCondition)
	meta.RemoveStatusCondition(&obj.Status.Conditions, casesv1alpha1.StalledCondition)
}

// restoreAfterPause puts back the Applied reason of an object that was
// applied, then paused, then resumed without a spec change: nothing needs to
// be sent again.
func restoreAfterPause(obj *casesv1alpha1.CaseFieldUpdate) {
	if readyReason(obj) == casesv1alpha1.PausedReason {
		setReady(obj, metav1.ConditionTrue, appliedOutcome(obj, obj.Status.LastRequestID))
	}
}

// readyMessage returns the message of obj's Ready condition.
func readyMessage(obj *casesv1alpha1.CaseFieldUpdate) string {
	if c := meta.FindStatusCondition(obj.Status.Conditions, casesv1alpha1.ReadyCondition); c != nil {
		return c.Message
	}
	return ""
}

// resyncInterval returns the drift check interval of an Enforce object.
func resyncInterval(obj *casesv1alpha1.CaseFieldUpdate) time.Duration {
	if obj.Spec.ResyncInterval != nil && obj.Spec.ResyncInterval.Duration > 0 {
		return obj.Spec.ResyncInterval.Duration
	}
	return DefaultResyncInterval
}

// checkDrift reads the case of an applied Enforce object when its resync is
// due. It returns the drifted fields; done is true when there is nothing to
// apply now, with the result to return.
func (r *CaseFieldUpdateReconciler) checkDrift(ctx context.Context, obj *casesv1alpha1.CaseFieldUpdate, now metav1.Time) (drifted []string, res ctrl.Result, done bool) {
	last := obj.Status.LastCheckedTime
	if last == nil {
		last = obj.Status.LastAppliedTime
	}
	if last != nil {
		if wait := last.Add(resyncInterval(obj)).Sub(now.Time); wait > 0 {
			return nil, ctrl.Result{RequeueAfter: wait}, true
		}
	}
	key := obj.Namespace + "/" + obj.Name
	if wait, ok := r.waitForSlot(ctx, "GetCase", key); !ok {
		return nil, ctrl.Result{RequeueAfter: wait}, true
	}
	callCtx, cancel := context.WithTimeout(ctx, r.callTimeout())
	defer cancel()
	actual, err := r.readCase(callCtx, obj.Spec)
	r.observe("GetCase", err != nil && cases.IsThrottle(err))
	if err != nil {
		o := ClassifyUpdateError(err)
		ctrl.LoggerFrom(ctx).Info("GetCase failed: drift check postponed", "reason", o.Reason, "requestId", o.RequestID, "error", o.Message)
		return nil, ctrl.Result{RequeueAfter: r.requeueAfter(o, 1)}, true
	}
	drifted = driftedFields(obj.Spec, actual)
	if len(drifted) == 0 {
		obj.Status.LastCheckedTime = &now
		return nil, ctrl.Result{RequeueAfter: jitter(resyncInterval(obj))}, true
	}
	// The check time moves only once the repair is applied: if the repair
	// has to wait for a limiter slot, the next reconcile checks again
	// instead of taking the drift for repaired.
	return drifted, ctrl.Result{}, false
}

// waitForSlot takes a call slot of the rate limiter for key. A short wait is
// spent in place; a longer one is returned with ok false, for the object to
// be requeued at its slot instead of holding a worker.
func (r *CaseFieldUpdateReconciler) waitForSlot(ctx context.Context, operation, key string) (time.Duration, bool) {
	if r.Limiter == nil {
		return 0, true
	}
	wait := r.Limiter.Acquire(operation, key)
	if wait <= 0 {
		return 0, true
	}
	if wait > orDefault(r.MaxLimiterWait, DefaultMaxLimiterWait) {
		return wait, false
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return wait, false
	case <-t.C:
	}
	// The slot is reached: this takes it.
	if again := r.Limiter.Acquire(operation, key); again > 0 {
		return again, false
	}
	return 0, true
}

// observe feeds an answer of the service to the limiter.
func (r *CaseFieldUpdateReconciler) observe(operation string, throttled bool) {
	if r.Limiter != nil {
		r.Limiter.Observe(operation, throttled)
	}
}

// forgetSlots releases the limiter slots of a deleted object.
func (r *CaseFieldUpdateReconciler) forgetSlots(key string) {
	if r.Limiter != nil {
		r.Limiter.Forget("UpdateCase", key)
		r.Limiter.Forget("GetCase", key)
	}
}

// requeueAfter returns when the object is tried again after an outcome; zero
// means not until it changes.
func (r *CaseFieldUpdateReconciler) requeueAfter(o Outcome, failures int32) time.Duration {
	switch o.Retry {
	case RetryStalled:
		return jitter(r.stalledRetryInterval())
	case RetryBackoff:
		return max(fullJitterBackoff(failures, time.Second, r.maxBackoff()), o.RetryAfter)
	default:
		return 0
	}
}

func (r *CaseFieldUpdateReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *CaseFieldUpdateReconciler) callTimeout() time.Duration {
	return orDefault(r.CallTimeout, DefaultCallTimeout)
}

func (r *CaseFieldUpdateReconciler) stalledRetryInterval() time.Duration {
	return orDefault(r.StalledRetryInterval, DefaultStalledRetryInterval)
}

func (r *CaseFieldUpdateReconciler) maxBackoff() time.Duration {
	return orDefault(r.MaxBackoff, DefaultMaxBackoff)
}

// orDefault returns d, or def when d is not positive.
func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
