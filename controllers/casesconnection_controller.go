package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/smithy-go"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kerrors "k8s.io/apimachinery/pkg/util/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/cases"
	"github.com/connectcases-operator/connectcases-operator/internal/connections"
)

// DefaultConnectionRecheck is how often a Ready connection is checked again.
const DefaultConnectionRecheck = 10 * time.Minute

// CasesConnectionReconciler keeps the registry's clients of each
// CasesConnection in step with its spec, and reports in its status whether
// its credentials resolve.
type CasesConnectionReconciler struct {
	client.Client

	// Registry holds the connections' clients.
	Registry *connections.Registry

	// StalledRetryInterval is the wait before a connection whose role cannot
	// be assumed is checked again; DefaultStalledRetryInterval when zero.
	StalledRetryInterval time.Duration

	// Recheck is how often a Ready connection is checked again;
	// DefaultConnectionRecheck when zero.
	Recheck time.Duration

	// MaxBackoff caps the wait before a connection that could not reach STS
	// is checked again; DefaultMaxBackoff when zero.
	MaxBackoff time.Duration

	// Now returns the current time; time.Now when nil.
	Now func() time.Time
}

// +kubebuilder:rbac:groups=cases.connectcases.dev,resources=casesconnections,verbs=list;watch
// +kubebuilder:rbac:groups=cases.connectcases.dev,resources=casesconnections/status,verbs=patch

// Reconcile builds the clients of a connection and checks its credentials
// with STS GetCallerIdentity, recording the result in one status patch.
func (r *CasesConnectionReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	obj := &casesv1alpha1.CasesConnection{}
	if err := r.Get(ctx, req.NamespacedName, obj); err != nil {
		if client.IgnoreNotFound(err) == nil {
			r.Registry.Remove(req.Name)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !obj.DeletionTimestamp.IsZero() {
		r.Registry.Remove(req.Name)
		return ctrl.Result{}, nil
	}
	before := obj.DeepCopy()
	defer func() {
		if equality.Semantic.DeepEqual(before.Status, obj.Status) {
			return
		}
		if err := r.Status().Patch(ctx, obj, client.MergeFrom(before)); err != nil {
			retErr = kerrors.NewAggregate([]error{retErr, fmt.Errorf("failed to patch the status of CasesConnection %s: %w", obj.Name, err)})
		}
	}()

	conn := r.Registry.Ensure(obj)
	id, err := r.Registry.Check(ctx, conn)
	now := metav1.NewTime(r.now())
	if err != nil {
		o := classifyConnectionError(err)
		ctrl.LoggerFrom(ctx).Info("CasesConnection credentials do not resolve", "reason", o.Reason, "error", err.Error())
		setConnectionFailed(obj, o, now)
		return ctrl.Result{RequeueAfter: r.retryAfter(o)}, nil
	}
	setConnectionReady(obj, id, now)
	return ctrl.Result{RequeueAfter: r.nextCheck(id, now.Time)}, nil
}

// classifyConnectionError tells why a connection's credentials do not
// resolve: STS refused the role (AssumeRoleFailed), refused the credentials
// or none could be found (InvalidCredentials), both stalled; or a call got
// no answer (NetworkError, retried with backoff).
func classifyConnectionError(err error) Outcome {
	var opErr *smithy.OperationError
	var apiErr smithy.APIError
	var credErr *cases.CredentialsError
	switch {
	case errors.As(err, &apiErr) && errors.As(err, &opErr) && opErr.Operation() == "AssumeRole":
		return Outcome{Reason: casesv1alpha1.AssumeRoleFailedReason, Retry: RetryStalled,
			Message: "STS refused to assume the role (check its trust policy and the external id): " + apiErr.ErrorCode() + ": " + apiErr.ErrorMessage()}
	case errors.As(err, &apiErr):
		return Outcome{Reason: casesv1alpha1.InvalidCredentialsReason, Retry: RetryStalled,
			Message: "STS refused the credentials: " + apiErr.ErrorCode() + ": " + apiErr.ErrorMessage()}
	case errors.As(err, &credErr) && !errors.As(err, &opErr):
		return Outcome{Reason: casesv1alpha1.InvalidCredentialsReason, Retry: RetryStalled, Message: capitalise(err.Error())}
	default:
		return Outcome{Reason: casesv1alpha1.NetworkErrorReason, Retry: RetryBackoff, Message: capitalise(err.Error())}
	}
}

// setConnectionReady records a successful check.
func setConnectionReady(obj *casesv1alpha1.CasesConnection, id connections.Identity, now metav1.Time) {
	obj.Status.ObservedGeneration = obj.Generation
	obj.Status.IdentityARN = id.ARN
	obj.Status.CredentialsExpireTime = nil
	if !id.Expires.IsZero() {
		t := metav1.NewTime(id.Expires.Truncate(time.Second))
		obj.Status.CredentialsExpireTime = &t
	}
	setConnectionCondition(obj, casesv1alpha1.ReadyCondition, metav1.ConditionTrue, casesv1alpha1.ConnectedReason,
		"Credentials resolve to "+id.ARN, now)
	meta.RemoveStatusCondition(&obj.Status.Conditions, casesv1alpha1.ReconcilingCondition)
	meta.RemoveStatusCondition(&obj.Status.Conditions, casesv1alpha1.StalledCondition)
}

// setConnectionFailed records a failed check: Ready False, and Stalled or
// Reconciling with the same reason.
func setConnectionFailed(obj *casesv1alpha1.CasesConnection, o Outcome, now metav1.Time) {
	obj.Status.ObservedGeneration = obj.Generation
	obj.Status.IdentityARN = ""
	obj.Status.CredentialsExpireTime = nil
	setConnectionCondition(obj, casesv1alpha1.ReadyCondition, metav1.ConditionFalse, o.Reason, o.Message, now)
	set, remove := casesv1alpha1.ReconcilingCondition, casesv1alpha1.StalledCondition
	if o.Stalled() {
		set, remove = remove, set
	}
	setConnectionCondition(obj, set, metav1.ConditionTrue, o.Reason, o.Message, now)
	meta.RemoveStatusCondition(&obj.Status.Conditions, remove)
}

// setConnectionCondition sets one condition for the current generation.
func setConnectionCondition(obj *casesv1alpha1.CasesConnection, condType string, status metav1.ConditionStatus, reason, message string, now metav1.Time) {
	meta.SetStatusCondition(&obj.Status.Conditions, metav1.Condition{
		Type: condType, Status: status, Reason: reason, Message: cut(message, maxConditionMessage),
		ObservedGeneration: obj.Generation, LastTransitionTime: now,
	})
}

// retryAfter is the wait before a failed connection is checked again: the
// stalled interval, or a short jittered wait for STS to answer again.
func (r *CasesConnectionReconciler) retryAfter(o Outcome) time.Duration {
	if o.Retry == RetryStalled {
		return jitter(orDefault(r.StalledRetryInterval, DefaultStalledRetryInterval))
	}
	return jitter(min(orDefault(r.MaxBackoff, DefaultMaxBackoff), 30*time.Second))
}

// nextCheck is when a Ready connection is checked again: at the recheck
// interval, or when its credentials expire, whichever comes first, so that
// credentialsExpireTime follows the refreshes.
func (r *CasesConnectionReconciler) nextCheck(id connections.Identity, now time.Time) time.Duration {
	next := orDefault(r.Recheck, DefaultConnectionRecheck)
	if !id.Expires.IsZero() {
		next = min(next, max(id.Expires.Sub(now), time.Second))
	}
	return next
}

func (r *CasesConnectionReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// SetupWithManager registers the reconciler with mgr.
func (r *CasesConnectionReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).For(&casesv1alpha1.CasesConnection{}).Complete(r)
}
