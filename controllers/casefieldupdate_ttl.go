package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

// ExpiredReason is the reason of the Event of an object deleted by its
// ttlSecondsAfterApplied.
const ExpiredReason = "Expired"

// expiresIn returns how long an applied object with ttlSecondsAfterApplied
// has left, and whether the TTL applies to it now: only to an object whose
// current generation is applied and that has no reconcile request pending.
func expiresIn(obj *casesv1alpha1.CaseFieldUpdate, requested string, now time.Time) (time.Duration, bool) {
	ttl := obj.Spec.TTLSecondsAfterApplied
	if ttl == nil || requested != "" || !isApplied(obj) || obj.Status.LastAppliedTime == nil {
		return 0, false
	}
	return obj.Status.LastAppliedTime.Add(time.Duration(*ttl) * time.Second).Sub(now), true
}

// expire deletes an applied object whose ttlSecondsAfterApplied has passed.
// A paused object never gets here: the guard keeps it.
func (r *CaseFieldUpdateReconciler) expire(ctx context.Context, s *scope) (ctrl.Result, bool, error) {
	left, applies := expiresIn(s.obj, s.requested, s.now.Time)
	if !applies || left > 0 {
		return ctrl.Result{}, false, nil
	}
	if err := r.deleteExpired(ctx, s); err != nil {
		return ctrl.Result{}, true, err
	}
	return ctrl.Result{}, true, nil
}

// deleteExpired deletes the object of s, conditional on its uid and
// resourceVersion, so that a new generation written meanwhile is not deleted
// before it is applied; that conflict leaves the object to its next
// reconcile.
func (r *CaseFieldUpdateReconciler) deleteExpired(ctx context.Context, s *scope) error {
	uid, version := s.obj.UID, s.obj.ResourceVersion
	err := r.Delete(ctx, s.obj, client.Preconditions{UID: &uid, ResourceVersion: &version})
	switch {
	case apierrors.IsNotFound(err):
		s.deleted = true
		return nil
	case apierrors.IsConflict(err):
		return nil
	case err != nil:
		return fmt.Errorf("failed to delete %s/%s after its ttlSecondsAfterApplied: %w", s.obj.Namespace, s.obj.Name, err)
	}
	s.deleted = true
	ctrl.LoggerFrom(ctx).Info("Deleted the object: its ttlSecondsAfterApplied has passed", "ttlSecondsAfterApplied", *s.obj.Spec.TTLSecondsAfterApplied)
	s.queued = append(s.queued, event{eventType: corev1.EventTypeNormal, reason: ExpiredReason, action: "Delete",
		note: fmt.Sprintf("Deleted %ds after it was applied (ttlSecondsAfterApplied); the case keeps its values", *s.obj.Spec.TTLSecondsAfterApplied)})
	return nil
}

// withExpiry makes a reconcile that leaves an applied object with a TTL come
// back when the TTL ends, unless it comes back sooner anyway.
func withExpiry(s *scope, res ctrl.Result) ctrl.Result {
	if s.deleted {
		return ctrl.Result{}
	}
	left, applies := expiresIn(s.obj, s.requested, s.now.Time)
	if !applies {
		return res
	}
	// An object left applied past its TTL (its delete met a conflict) is
	// looked at again shortly.
	left = max(left, time.Second)
	if res.RequeueAfter <= 0 || left < res.RequeueAfter {
		res.RequeueAfter = left
	}
	return res
}
