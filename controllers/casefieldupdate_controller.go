// Package controllers holds the CaseFieldUpdate reconciler: it applies each
// generation of a CaseFieldUpdate to its case with one UpdateCase call and
// records the outcome in the object's status.
package controllers

import (
	"context"
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
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/cases"
)

// CaseUpdater is the part of the Connect Cases API the reconciler calls. The
// SDK's *connectcases.Client implements it. Implementations must be safe for
// concurrent use and must honour the context's deadline.
type CaseUpdater interface {
	UpdateCase(ctx context.Context, in *connectcases.UpdateCaseInput, optFns ...func(*connectcases.Options)) (*connectcases.UpdateCaseOutput, error)
}

// Defaults of the reconciler's timing settings.
const (
	DefaultCallTimeout          = 30 * time.Second
	DefaultStalledRetryInterval = 5 * time.Minute
	DefaultMaxBackoff           = 5 * time.Minute
)

// CaseFieldUpdateReconciler applies CaseFieldUpdate objects to Connect Cases.
type CaseFieldUpdateReconciler struct {
	client.Client

	// Cases is the Connect Cases API.
	Cases CaseUpdater

	// Recorder emits the objects' Events.
	Recorder events.EventRecorder

	// CallTimeout bounds each AWS call, retries included.
	CallTimeout time.Duration

	// StalledRetryInterval is the wait, jittered, before a stalled object
	// whose cause may heal outside the cluster is tried again.
	StalledRetryInterval time.Duration

	// MaxBackoff caps the exponential backoff of transient failures.
	MaxBackoff time.Duration

	// Now returns the current time; time.Now when nil.
	Now func() time.Time
}

// +kubebuilder:rbac:groups=cases.connectcases.dev,resources=casefieldupdates,verbs=list;watch
// +kubebuilder:rbac:groups=cases.connectcases.dev,resources=casefieldupdates/status,verbs=patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create

// Reconcile applies the current generation of a CaseFieldUpdate, once.
func (r *CaseFieldUpdateReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	obj := &casesv1alpha1.CaseFieldUpdate{}
	if err := r.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !obj.DeletionTimestamp.IsZero() || isSettled(obj) {
		return ctrl.Result{}, nil
	}
	log := ctrl.LoggerFrom(ctx).WithValues("domainId", obj.Spec.DomainID, "caseId", obj.Spec.CaseID, "generation", obj.Generation)
	ctx = ctrl.LoggerInto(ctx, log)

	before := obj.DeepCopy()
	outcome, called := r.apply(ctx, obj)
	setStatus(obj, outcome, called, metav1.NewTime(r.now()))

	if !equality.Semantic.DeepEqual(before.Status, obj.Status) {
		if err := r.Status().Patch(ctx, obj, client.MergeFrom(before)); err != nil {
			return ctrl.Result{}, fmt.Errorf("failed to patch the status of %s: %w", req.NamespacedName, err)
		}
	}
	r.recordEvent(obj, readyReason(before), outcome)
	return ctrl.Result{RequeueAfter: r.requeueAfter(outcome, obj.Status.Failures)}, nil
}

// apply builds and sends the UpdateCase request of obj's spec. It reports the
// outcome and whether AWS was called.
func (r *CaseFieldUpdateReconciler) apply(ctx context.Context, obj *casesv1alpha1.CaseFieldUpdate) (Outcome, bool) {
	log := ctrl.LoggerFrom(ctx)
	in, err := BuildUpdateCaseInput(obj.Spec)
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
func (r *CaseFieldUpdateReconciler) recordEvent(obj *casesv1alpha1.CaseFieldUpdate, previousReason string, o Outcome) {
	if r.Recorder == nil {
		return
	}
	if o.Reason == casesv1alpha1.AppliedReason {
		r.Recorder.Eventf(obj, nil, corev1.EventTypeNormal, o.Reason, "UpdateCase", "%s", o.Message)
		return
	}
	if o.Reason != previousReason {
		r.Recorder.Eventf(obj, nil, corev1.EventTypeWarning, o.Reason, "UpdateCase", "%s", o.Message)
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

// SetupWithManager registers the reconciler with mgr. Status updates do not
// trigger a reconcile (they leave the generation as it is); spec and
// annotation changes do.
func (r *CaseFieldUpdateReconciler) SetupWithManager(mgr ctrl.Manager, maxConcurrentReconciles int) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&casesv1alpha1.CaseFieldUpdate{}, builder.WithPredicates(
			predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}),
		)).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(1, maxConcurrentReconciles)}).
		Complete(r)
}
