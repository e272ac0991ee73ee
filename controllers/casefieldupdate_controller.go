// Package controllers holds the CaseFieldUpdate reconciler: it applies each
// generation of a CaseFieldUpdate to its case with one UpdateCase call and
// records the outcome in the object's status.
package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/cases"
)

// CaseUpdater is the part of the Connect Cases API the reconciler calls. The
// SDK's *connectcases.Client implements it. Implementations must be safe for
// concurrent use and must honour the context's deadline.
type CaseUpdater interface {
	UpdateCase(ctx context.Context, in *connectcases.UpdateCaseInput, optFns ...func(*connectcases.Options)) (*connectcases.UpdateCaseOutput, error)
	GetCase(ctx context.Context, in *connectcases.GetCaseInput, optFns ...func(*connectcases.Options)) (*connectcases.GetCaseOutput, error)
}

// Defaults of the reconciler's timing settings.
const (
	DefaultCallTimeout          = 30 * time.Second
	DefaultStalledRetryInterval = 5 * time.Minute
	DefaultMaxBackoff           = 5 * time.Minute
	DefaultResyncInterval       = 10 * time.Minute
	// DefaultMaxLimiterWait is the longest a worker waits in place for a
	// rate-limiter slot; a longer wait requeues the object for that time.
	DefaultMaxLimiterWait = 500 * time.Millisecond
)

// CaseFieldUpdateReconciler applies CaseFieldUpdate objects to Connect Cases.
type CaseFieldUpdateReconciler struct {
	client.Client

	// Cases is the Connect Cases API.
	Cases CaseUpdater

	// Limiter paces the AWS calls of every worker; nil means no client-side
	// limit.
	Limiter *cases.Limiter

	// Catalog resolves field names and types for the pre-checks; nil turns
	// them off (--skip-field-checks).
	Catalog *cases.Catalog

	// EnableValueFrom allows valueFrom to read Secrets and ConfigMaps.
	EnableValueFrom bool

	// Recorder emits the objects' Events.
	Recorder events.EventRecorder

	// CallTimeout bounds each AWS call, retries included.
	CallTimeout time.Duration

	// StalledRetryInterval is the wait, jittered, before a stalled object
	// whose cause may heal outside the cluster is tried again.
	StalledRetryInterval time.Duration

	// MaxBackoff caps the exponential backoff of transient failures.
	MaxBackoff time.Duration

	// MaxLimiterWait is the longest a worker waits in place for the limiter.
	MaxLimiterWait time.Duration

	// Now returns the current time; time.Now when nil.
	Now func() time.Time
}

// +kubebuilder:rbac:groups=cases.connectcases.dev,resources=casefieldupdates,verbs=list;watch
// +kubebuilder:rbac:groups=cases.connectcases.dev,resources=casefieldupdates/status,verbs=patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create

// Reconcile applies the current generation of a CaseFieldUpdate, once, and
// in Enforce mode repairs drift. It writes at most one status patch.
func (r *CaseFieldUpdateReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	obj := &casesv1alpha1.CaseFieldUpdate{}
	if err := r.Get(ctx, req.NamespacedName, obj); err != nil {
		if client.IgnoreNotFound(err) == nil {
			r.forgetSlots(req.String())
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !obj.DeletionTimestamp.IsZero() {
		r.forgetSlots(req.String())
		return ctrl.Result{}, nil
	}
	log := ctrl.LoggerFrom(ctx).WithValues("domainId", obj.Spec.DomainID, "caseId", obj.Spec.CaseID, "generation", obj.Generation)
	ctx = ctrl.LoggerInto(ctx, log)

	before := obj.DeepCopy()
	res, outcome, err := r.sync(ctx, obj)
	if err != nil {
		return ctrl.Result{}, err
	}
	if !equality.Semantic.DeepEqual(before.Status, obj.Status) {
		if err := r.Status().Patch(ctx, obj, client.MergeFrom(before)); err != nil {
			return ctrl.Result{}, fmt.Errorf("failed to patch the status of %s: %w", req.NamespacedName, err)
		}
	}
	r.recordEvent(obj, readyReason(before), outcome)
	return res, nil
}

// sync decides what obj needs, makes the AWS calls and records the outcome
// in obj's status, which the caller patches. It returns the outcome of the
// UpdateCase attempt, nil when none was made.
func (r *CaseFieldUpdateReconciler) sync(ctx context.Context, obj *casesv1alpha1.CaseFieldUpdate) (ctrl.Result, *Outcome, error) {
	now := metav1.NewTime(r.now())
	if isPaused(obj) {
		setPaused(obj)
		return ctrl.Result{}, nil, nil
	}
	others, err := r.sameCase(ctx, obj)
	if err != nil {
		return ctrl.Result{}, nil, fmt.Errorf("failed to list the objects of case %s: %w", caseKey(obj), err)
	}
	if msg, conflict := findConflicts(obj, others); conflict {
		setStatus(obj, Outcome{Reason: casesv1alpha1.FieldConflictReason, Message: msg, Retry: RetryNever}, false, now)
		return ctrl.Result{}, nil, nil
	}

	requested := obj.Annotations[casesv1alpha1.ReconcileRequestedAtAnnotation]
	requestPending := requested != "" && requested != obj.Status.LastHandledReconcileAt
	var drifted []string
	if isSettled(obj) && !requestPending && !r.referencesChanged(ctx, obj) {
		restoreAfterPause(obj)
		if obj.Spec.SyncPolicy != casesv1alpha1.SyncPolicyEnforce || readyReason(obj) != casesv1alpha1.AppliedReason {
			return ctrl.Result{}, nil, nil
		}
		var res ctrl.Result
		var done bool
		if drifted, res, done = r.checkDrift(ctx, obj, now); done {
			return res, nil, nil
		}
	}

	res, problem, err := r.resolve(ctx, obj)
	var rl errRateLimited
	if errors.As(err, &rl) {
		return ctrl.Result{RequeueAfter: rl.wait}, nil, nil
	}
	if problem != nil {
		setStatus(obj, *problem, false, now)
		return ctrl.Result{RequeueAfter: r.requeueAfter(*problem, obj.Status.Failures)}, problem, nil
	}

	key := client.ObjectKeyFromObject(obj).String()
	if wait, ok := r.waitForSlot(ctx, "UpdateCase", key); !ok {
		// Waiting for a slot changes nothing in the status: no write.
		return ctrl.Result{RequeueAfter: wait}, nil, nil
	}
	if len(drifted) > 0 {
		// Reported once the repair is about to be sent, so that a wait for a
		// limiter slot does not report the same drift twice.
		r.record(obj, corev1.EventTypeWarning, casesv1alpha1.DriftDetectedReason, driftMessage(obj, drifted))
		driftDetected.WithLabelValues(obj.Namespace).Inc()
	}
	obj.Status.Fields = res.fields
	outcome, called := r.apply(ctx, obj, res.spec)
	if called {
		r.observe("UpdateCase", outcome.Reason == casesv1alpha1.ThrottledReason)
		if isFieldRejection(outcome) && r.Catalog != nil {
			r.Catalog.Invalidate(obj.Spec.DomainID)
		}
	}
	setStatus(obj, outcome, called, now)
	if outcome.Reason == casesv1alpha1.AppliedReason {
		obj.Status.References = res.references
	}
	if requestPending {
		obj.Status.LastHandledReconcileAt = requested
	}
	if outcome.Reason == casesv1alpha1.AppliedReason && obj.Spec.SyncPolicy == casesv1alpha1.SyncPolicyEnforce {
		obj.Status.LastCheckedTime = &now
		return ctrl.Result{RequeueAfter: jitter(resyncInterval(obj))}, &outcome, nil
	}
	return ctrl.Result{RequeueAfter: r.requeueAfter(outcome, obj.Status.Failures)}, &outcome, nil
}

// apply builds and sends the UpdateCase request of obj's resolved spec. It
// reports the outcome and whether AWS was called.
func (r *CaseFieldUpdateReconciler) apply(ctx context.Context, obj *casesv1alpha1.CaseFieldUpdate, spec casesv1alpha1.CaseFieldUpdateSpec) (Outcome, bool) {
	log := ctrl.LoggerFrom(ctx)
	in, err := BuildUpdateCaseInput(spec)
	if err != nil {
		log.Info("Spec rejected before any call", "error", err.Error())
		return localValidationOutcome(err), false
	}

	callCtx, cancel := context.WithTimeout(ctx, r.callTimeout())
	defer cancel()
	out, err := r.Cases.UpdateCase(callCtx, in)
	if err != nil {
		o := ClassifyUpdateError(err)
		log.Info("UpdateCase failed", "reason", o.Reason, "requestId", o.RequestID, "error", o.Message)
		return o, true
	}
	requestID := cases.RequestIDFromMetadata(out.ResultMetadata)
	log.Info("UpdateCase applied", "requestId", requestID, "fields", len(in.Fields))
	return appliedOutcome(obj, requestID), true
}

// recordEvent emits a Normal Applied event once per applied generation, and a
// Warning when the failure reason differs from the previous one, so that a
// run of the same failure (throttling) does not flood the Events.
func (r *CaseFieldUpdateReconciler) recordEvent(obj *casesv1alpha1.CaseFieldUpdate, previousReason string, o *Outcome) {
	if o != nil && o.Reason == casesv1alpha1.AppliedReason {
		r.record(obj, corev1.EventTypeNormal, o.Reason, o.Message)
		return
	}
	reason := readyReason(obj)
	if reason == previousReason || reason == casesv1alpha1.AppliedReason || reason == "" {
		return
	}
	eventType := corev1.EventTypeWarning
	if reason == casesv1alpha1.PausedReason {
		eventType = corev1.EventTypeNormal
	}
	r.record(obj, eventType, reason, readyMessage(obj))
}

// record emits one Event about obj, when a recorder is configured.
func (r *CaseFieldUpdateReconciler) record(obj *casesv1alpha1.CaseFieldUpdate, eventType, reason, message string) {
	if r.Recorder != nil {
		r.Recorder.Eventf(obj, nil, eventType, reason, "UpdateCase", "%s", message)
	}
}

// SetupWithManager registers the reconciler with mgr. Status updates do not
// trigger a reconcile (they leave the generation as it is); spec and
// annotation changes do, and so does a change of another object of the same
// case, which may start or end a field conflict.
func (r *CaseFieldUpdateReconciler) SetupWithManager(mgr ctrl.Manager, maxConcurrentReconciles int) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &casesv1alpha1.CaseFieldUpdate{}, caseIndexKey, indexByCase); err != nil {
		return fmt.Errorf("failed to index CaseFieldUpdates by case: %w", err)
	}
	changes := predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{})
	b := ctrl.NewControllerManagedBy(mgr).
		For(&casesv1alpha1.CaseFieldUpdate{}, builder.WithPredicates(changes)).
		Watches(&casesv1alpha1.CaseFieldUpdate{}, handler.EnqueueRequestsFromMapFunc(r.peersOf),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(1, maxConcurrentReconciles)})
	if r.EnableValueFrom {
		if err := mgr.GetFieldIndexer().IndexField(context.Background(), &casesv1alpha1.CaseFieldUpdate{}, referenceIndexKey, indexByReference); err != nil {
			return fmt.Errorf("failed to index CaseFieldUpdates by reference: %w", err)
		}
		b = b.Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.referencing("Secret"))).
			Watches(&corev1.ConfigMap{}, handler.EnqueueRequestsFromMapFunc(r.referencing("ConfigMap")))
	}
	return b.Complete(r)
}
