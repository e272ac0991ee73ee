package controllers

import (
	"context"
	"time"

	"github.com/connectcases-operator/connectcases-operator/internal/cases"
)

// waitForSlot takes a call slot of the rate limiter for key. A short wait is
// spent in place; a longer one is returned with ok false, for the object to
// be requeued at its slot instead of holding a worker.
func (r *CaseFieldUpdateReconciler) waitForSlot(ctx context.Context, operation, key string) (time.Duration, bool) {
	limiter := r.limiterFor(ctx)
	if limiter == nil {
		return 0, true
	}
	wait := limiter.Acquire(operation, key)
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
	if again := limiter.Acquire(operation, key); again > 0 {
		return again, false
	}
	return 0, true
}

// callStart returns when a call is sent, on the clock of the limiter that
// paces it (zero without one), for observe.
func (r *CaseFieldUpdateReconciler) callStart(ctx context.Context) time.Time {
	if limiter := r.limiterFor(ctx); limiter != nil {
		return limiter.Now()
	}
	return time.Time{}
}

// observe feeds the answer of a call sent at sent to the limiter. A call
// that got no answer says nothing of the quota.
func (r *CaseFieldUpdateReconciler) observe(ctx context.Context, operation string, sent time.Time, err error) {
	if limiter := r.limiterFor(ctx); limiter != nil && (err == nil || cases.HTTPStatusFromError(err) != 0) {
		limiter.Observe(operation, sent, cases.IsThrottle(err))
	}
}

// forgetSlots releases the limiter slots of a deleted object, in the
// reconciler's limiter and in every connection's.
func (r *CaseFieldUpdateReconciler) forgetSlots(key string) {
	limiters := []*cases.Limiter{r.Limiter}
	if r.Connections != nil {
		limiters = append(limiters, r.Connections.Limiters()...)
	}
	for _, l := range limiters {
		if l != nil {
			l.Forget("UpdateCase", key)
			l.Forget("GetCase", key)
		}
	}
}

// requeueAfter returns when the object is tried again after an outcome; zero
// means not until it changes.
func (r *CaseFieldUpdateReconciler) requeueAfter(o Outcome, failures int32) time.Duration {
	switch o.Retry {
	case RetryStalled:
		return max(jitter(r.stalledRetryInterval()), o.RetryAfter)
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
