package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

// work is what a reconcile has to do for its object, decided by the plan
// phase from the object's status.
type work int

const (
	// workIdle: the current generation is settled; only a field conflict
	// with a neighbour can change that.
	workIdle work = iota
	// workCheck: an applied Enforce object whose resync is due: read the
	// case, and apply again only if it drifted.
	workCheck
	// workApply: send UpdateCase (a new generation, a reconcile request, a
	// changed Secret or ConfigMap, a retry, or a drift repair).
	workApply
)

// scope is what one reconcile knows and decides about its object. The
// phases fill it in; record writes it out.
type scope struct {
	obj    *casesv1alpha1.CaseFieldUpdate
	before *casesv1alpha1.CaseFieldUpdate
	now    metav1.Time

	// requested is the reconcile-requested-at token awaiting its echo, ""
	// when none is pending.
	requested string
	// acknowledge is true once the reconcile has acted on the request: every
	// exit but a pause and a wait for a limiter slot.
	acknowledge bool

	work work
	// idleWait is when an idle Enforce object's next drift check is due.
	idleWait time.Duration
	peers    []casesv1alpha1.CaseFieldUpdate
	res      *resolution
	// api is the connection the object's calls go through, chosen by the
	// connect phase; nil for the reconciler's own clients.
	api *connectionAPI
	// drifted are the fields a drift check found changed on the case.
	drifted []casesv1alpha1.ResolvedField

	// queued are the Events decided by the phases, emitted after the patch.
	queued []event
	// deleted is true once the object was deleted (ttlSecondsAfterApplied):
	// there is no status left to patch.
	deleted bool
}

// newScope starts the reconcile of obj at now.
func newScope(obj *casesv1alpha1.CaseFieldUpdate, now time.Time) *scope {
	return &scope{obj: obj, before: obj.DeepCopy(), now: metav1.NewTime(now)}
}

// phase is one step of a reconcile. It returns done when the reconcile ends
// with it, with the result to return.
type phase func(ctx context.Context, s *scope) (res ctrl.Result, done bool, err error)

// phases lists the steps of a reconcile in order: each reads the scope that
// the previous ones filled in.
func (r *CaseFieldUpdateReconciler) phases() []phase {
	return []phase{r.guard, r.connectPhase, r.expire, r.plan, r.resolvePhase, r.conflictPhase, r.driftPhase, r.slotPhase, r.callPhase}
}

// guard stops at a paused object. The pause is shown in the status; a
// pending reconcile request stays pending until the object is resumed.
func (r *CaseFieldUpdateReconciler) guard(_ context.Context, s *scope) (ctrl.Result, bool, error) {
	if isPaused(s.obj) {
		setPaused(s.obj, s.now)
		return ctrl.Result{}, true, nil
	}
	if token := s.obj.Annotations[casesv1alpha1.ReconcileRequestedAtAnnotation]; token != s.obj.Status.LastHandledReconcileAt {
		s.requested = token
	}
	s.acknowledge = true
	return ctrl.Result{}, false, nil
}

// plan decides what the object needs, from its status, and lists the
// neighbours that set fields of the same case. An idle object without
// neighbours ends here, without any AWS call.
func (r *CaseFieldUpdateReconciler) plan(ctx context.Context, s *scope) (ctrl.Result, bool, error) {
	obj := s.obj
	restoreAfterPause(obj, s.now)
	switch {
	case s.requested != "" || !isSettled(obj) || r.referencesChanged(obj):
		s.work = workApply
	case obj.Spec.SyncPolicy == casesv1alpha1.SyncPolicyEnforce && isApplied(obj):
		if s.idleWait = checkDueIn(obj, s.now.Time); s.idleWait <= 0 {
			s.work = workCheck
		}
	}
	peers, err := r.sameCase(ctx, obj)
	if err == nil {
		peers, err = r.peersInAccount(ctx, s.api, peers)
	}
	if err != nil {
		return ctrl.Result{}, true, fmt.Errorf("failed to list the objects of case %s: %w", caseKey(obj), err)
	}
	s.peers = peers
	if s.work == workIdle && len(peers) == 0 {
		settleApplied(obj, s.now)
		return ctrl.Result{RequeueAfter: s.idleWait}, true, nil
	}
	return ctrl.Result{}, false, nil
}

// resolvePhase resolves names, valueFrom and the field catalog into the one
// resolved spec that every later phase uses.
func (r *CaseFieldUpdateReconciler) resolvePhase(ctx context.Context, s *scope) (ctrl.Result, bool, error) {
	res, problem, err := r.resolve(ctx, s.obj)
	if wait, limited := rateLimitedWait(err); limited {
		// Waiting for a limiter slot records nothing: the object comes back
		// at its slot, the request still pending.
		s.acknowledge = false
		return ctrl.Result{RequeueAfter: wait}, true, nil
	}
	if err != nil {
		return ctrl.Result{}, true, err
	}
	s.res = res
	if problem != nil {
		return r.fail(s, *problem), true, nil
	}
	return ctrl.Result{}, false, nil
}

// conflictPhase stops an object that sets a field of its case to another
// value than a neighbour does, comparing resolved fields and values.
func (r *CaseFieldUpdateReconciler) conflictPhase(ctx context.Context, s *scope) (ctrl.Result, bool, error) {
	if len(s.peers) > 0 {
		mine := claimsOfResolution(s.res)
		ids := make(map[string]bool, len(mine))
		for _, c := range mine {
			ids[c.field.ID] = true
		}
		peers := make([]peerClaims, 0, len(s.peers))
		for i := range s.peers {
			peers = append(peers, r.claimsOf(ctx, &s.peers[i], ids))
		}
		if msg, conflict := findConflicts(s.obj.Spec, mine, peers); conflict {
			s.recordResolution()
			setStatus(s.obj, Outcome{Reason: casesv1alpha1.FieldConflictReason, Message: msg, Retry: RetryNever}, false, s.now)
			return ctrl.Result{}, true, nil
		}
	}
	if s.work == workIdle {
		s.recordResolution()
		settleApplied(s.obj, s.now)
		return ctrl.Result{RequeueAfter: s.idleWait}, true, nil
	}
	return ctrl.Result{}, false, nil
}

// driftPhase reads the case of an Enforce object whose resync is due. No
// drift ends the reconcile; a drift turns it into a repair.
func (r *CaseFieldUpdateReconciler) driftPhase(ctx context.Context, s *scope) (ctrl.Result, bool, error) {
	if s.work != workCheck {
		return ctrl.Result{}, false, nil
	}
	key := s.obj.Namespace + "/" + s.obj.Name
	if wait, ok := r.waitForSlot(ctx, "GetCase", key); !ok {
		return ctrl.Result{RequeueAfter: wait}, true, nil
	}
	sent := r.callStart(ctx)
	actual, err := r.readCase(ctx, s.res.spec)
	r.observe(ctx, "GetCase", sent, err)
	if err != nil {
		o := redactOutcome(ClassifyUpdateError(err), s.res.secrets)
		ctrl.LoggerFrom(ctx).Info("GetCase failed: drift check failed", "reason", o.Reason, "requestId", o.RequestID, "error", o.Message)
		return r.fail(s, o), true, nil
	}
	if s.drifted = driftedFields(s.res, actual); len(s.drifted) == 0 {
		s.recordResolution()
		s.obj.Status.LastCheckedTime = &s.now
		settleApplied(s.obj, s.now)
		return ctrl.Result{RequeueAfter: jitter(resyncInterval(s.obj))}, true, nil
	}
	// The check time moves only once the repair is applied: if the repair
	// has to wait for a limiter slot, the next reconcile checks again
	// instead of taking the drift for repaired.
	s.work = workApply
	return ctrl.Result{}, false, nil
}

// slotPhase takes the UpdateCase slot of the rate limiter. A long wait
// requeues the object at its slot and records nothing.
func (r *CaseFieldUpdateReconciler) slotPhase(ctx context.Context, s *scope) (ctrl.Result, bool, error) {
	if wait, ok := r.waitForSlot(ctx, "UpdateCase", s.obj.Namespace+"/"+s.obj.Name); !ok {
		s.acknowledge = false
		return ctrl.Result{RequeueAfter: wait}, true, nil
	}
	return ctrl.Result{}, false, nil
}

// callPhase sends UpdateCase with the resolved spec and records its outcome.
func (r *CaseFieldUpdateReconciler) callPhase(ctx context.Context, s *scope) (ctrl.Result, bool, error) {
	obj := s.obj
	if len(s.drifted) > 0 {
		// Reported once the repair is about to be sent, so that a wait for a
		// limiter slot does not report the same drift twice.
		s.queue(corev1.EventTypeWarning, casesv1alpha1.DriftDetectedReason, driftMessage(obj, s.drifted))
		driftDetected.WithLabelValues(obj.Namespace).Inc()
	}
	outcome, called := r.apply(ctx, obj, s.res)
	s.recordResolution()
	setStatus(obj, outcome, called, s.now)
	if outcome.Reason != casesv1alpha1.AppliedReason {
		return ctrl.Result{RequeueAfter: r.requeueAfter(outcome, obj.Status.Failures)}, true, nil
	}
	s.queue(corev1.EventTypeNormal, casesv1alpha1.AppliedReason, outcome.Message)
	if obj.Spec.SyncPolicy == casesv1alpha1.SyncPolicyEnforce {
		obj.Status.LastCheckedTime = &s.now
		return ctrl.Result{RequeueAfter: jitter(resyncInterval(obj))}, true, nil
	}
	return ctrl.Result{}, true, nil
}

// fail records a failure outcome and returns when to try again. For an
// applied object that was only being checked (a drift read, or the
// resolution of a settled object), the spec stays applied: Ready keeps True
// and the failure shows in Reconciling or Stalled.
func (r *CaseFieldUpdateReconciler) fail(s *scope, o Outcome) ctrl.Result {
	s.recordResolution()
	if s.work != workApply && isApplied(s.obj) {
		setCheckFailed(s.obj, o, s.now)
	} else {
		setStatus(s.obj, o, false, s.now)
	}
	return ctrl.Result{RequeueAfter: r.requeueAfter(o, s.obj.Status.Failures)}
}

// recordResolution writes what the resolution found to the status: the
// resolved fields, and the Secrets and ConfigMaps read, so that a change of
// one of them runs the object again, whether this attempt succeeded or not.
func (s *scope) recordResolution() {
	if s.res == nil {
		return
	}
	s.obj.Status.Fields = s.res.fields
	s.obj.Status.References = s.res.references
}
