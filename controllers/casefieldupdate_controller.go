// Package controllers holds the CaseFieldUpdate reconciler: it applies each
// generation of a CaseFieldUpdate to its case with one UpdateCase call and
// records the outcome in the object's status.
package controllers

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"k8s.io/apimachinery/pkg/api/equality"
	kerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/cases"
	"github.com/connectcases-operator/connectcases-operator/internal/connections"
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

	// APIReader reads the values of Secrets and ConfigMaps for valueFrom
	// straight from the API server: the cache holds their metadata only, so
	// that it never holds secret data. The manager's API reader when nil
	// and set up with a manager; the client otherwise.
	APIReader client.Reader

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

	// WatchNamespaces are the namespaces the manager's cache is restricted
	// to (--watch-namespaces), where valueFrom's Secrets and ConfigMaps are
	// watched; none means the whole cluster.
	WatchNamespaces []string

	// references follows the Secrets and ConfigMaps that valueFrom reads;
	// set up with the manager when EnableValueFrom is set.
	references *referenceWatch

	// written holds the status writes that the cache has not shown yet.
	written writtenVersions

	// Recorder emits the objects' Events.
	Recorder events.EventRecorder

	// CallTimeout bounds each AWS call, retries included.
	CallTimeout time.Duration

	// StalledRetryInterval is the wait, jittered, before a stalled object
	// whose cause may heal outside the cluster is tried again.
	StalledRetryInterval time.Duration

	// MaxBackoff caps the exponential backoff of transient failures.
	MaxBackoff time.Duration

	// RequeueOnFailure says how a transient failure is tried again;
	// RequeueBackoff when empty.
	RequeueOnFailure RequeuePolicy

	// MaxLimiterWait is the longest a worker waits in place for the limiter.
	MaxLimiterWait time.Duration

	// Now returns the current time; time.Now when nil.
	Now func() time.Time

	// Connections holds the clients, limiters and catalogs of the
	// CasesConnections. Nil turns connections off: every object uses
	// Cases, Limiter and Catalog, as before connections existed.
	Connections *connections.Registry

	// RequireConnection refuses objects that name no connection when none
	// is marked default, instead of using the operator's own identity.
	RequireConnection bool

	// OwnAccount is the AWS account id of the operator's own identity, when
	// known: objects that use it and objects of a connection to the same
	// account are neighbours for field conflicts.
	OwnAccount string
}

// +kubebuilder:rbac:groups=cases.connectcases.dev,resources=casefieldupdates,verbs=list;watch;delete
// +kubebuilder:rbac:groups=cases.connectcases.dev,resources=casefieldupdates/status,verbs=patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=cases.connectcases.dev,resources=casesconnections,verbs=list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=list;watch

// Reconcile brings a CaseFieldUpdate's case to its spec: it applies each
// generation once and, in Enforce mode, repairs drift. It runs the phases of
// phases.go in order until one ends the reconcile, and records everything
// they decided in a single deferred status patch, followed by the Events.
func (r *CaseFieldUpdateReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
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
	if r.written.stale(obj.UID, obj.ResourceVersion, r.now()) {
		log.V(1).Info("The cache is behind the last status write; waiting for it", "resourceVersion", obj.ResourceVersion)
		return ctrl.Result{RequeueAfter: staleCacheWait}, nil
	}

	s := newScope(obj, r.now())
	defer func() {
		if err := r.record(ctx, s); err != nil {
			retErr = kerrors.NewAggregate([]error{retErr, err})
		}
		result, retErr = r.requeueByPolicy(s, result, retErr)
	}()
	for _, phase := range r.phases() {
		res, done, err := phase(s.withAPI(ctx), s)
		if err != nil || done {
			return withExpiry(s, res), err
		}
	}
	return withExpiry(s, ctrl.Result{}), nil
}

// record is the last step of every reconcile: it acknowledges the reconcile
// request, patches the status once when it changed, and then emits the
// Events the phases queued.
func (r *CaseFieldUpdateReconciler) record(ctx context.Context, s *scope) error {
	if s.deleted {
		for _, e := range s.eventsToEmit() {
			r.emit(s.obj, e)
		}
		return nil
	}
	if s.acknowledge && s.requested != "" {
		s.obj.Status.LastHandledReconcileAt = s.requested
	}
	var err error
	if !equality.Semantic.DeepEqual(s.before.Status, s.obj.Status) {
		r.written.writing(s.obj.UID, s.before.ResourceVersion, r.now())
		if perr := r.Status().Patch(ctx, s.obj, client.MergeFrom(s.before)); perr != nil {
			r.written.forget(s.obj.UID)
			err = fmt.Errorf("failed to patch the status of %s/%s: %w", s.obj.Namespace, s.obj.Name, perr)
		} else if s.obj.ResourceVersion == s.before.ResourceVersion {
			r.written.forget(s.obj.UID)
		}
	}
	if left, applies := expiresIn(s.obj, s.requested, s.now.Time); err == nil && applies && left <= 0 && s.before.Status.LastAppliedTime != s.obj.Status.LastAppliedTime {
		// Applied just now with a TTL already over (0): delete at once, at
		// the resourceVersion the patch returned, rather than requeue and
		// risk reading the object from a cache that is not yet up to date.
		err = r.deleteExpired(ctx, s)
	}
	for _, e := range s.eventsToEmit() {
		r.emit(s.obj, e)
	}
	return err
}

// emit sends one Event about obj, when a recorder is configured. The note is
// cut to what the API server accepts.
func (r *CaseFieldUpdateReconciler) emit(obj *casesv1alpha1.CaseFieldUpdate, e event) {
	if r.Recorder != nil {
		r.Recorder.Eventf(obj, nil, e.eventType, e.reason, e.action, "%s", cut(e.note, maxEventNote))
	}
}

// SetupWithManager registers the reconciler with mgr. Status updates do not
// trigger a reconcile (they leave the generation as it is); spec and
// annotation changes do, and so does a change of another object of the same
// case, which may start or end a field conflict. With valueFrom, a change
// of a Secret or ConfigMap that an object reads does too: they are watched
// as metadata and not cached (see referenceWatch), so the manager never
// holds their data.
func (r *CaseFieldUpdateReconciler) SetupWithManager(mgr ctrl.Manager, maxConcurrentReconciles int) error {
	if r.APIReader == nil {
		r.APIReader = mgr.GetAPIReader()
	}
	if err := indexField(context.Background(), mgr.GetCache(), caseIndexKey, indexByCase); err != nil {
		return fmt.Errorf("failed to index CaseFieldUpdates by case: %w", err)
	}
	if err := r.followWrites(mgr.GetCache()); err != nil {
		return err
	}
	changes := predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{})
	b := ctrl.NewControllerManagedBy(mgr).
		For(&casesv1alpha1.CaseFieldUpdate{}, builder.WithPredicates(changes)).
		Watches(&casesv1alpha1.CaseFieldUpdate{}, handler.EnqueueRequestsFromMapFunc(r.peersOf),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(1, maxConcurrentReconciles)})
	b, err := r.watchConnections(mgr, b)
	if err != nil {
		return err
	}
	if r.EnableValueFrom {
		r.references = newReferenceWatch(mgr.GetConfig(), mgr.GetHTTPClient(), mgr.GetCache(), r.WatchNamespaces, r.readersOf)
		b = b.WatchesRawSource(r.references)
	}
	return b.Complete(r)
}
