package controllers

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/cases"
)

// connectionWait is how soon an object comes back when its connection is
// Ready but its clients are not built yet in this manager (just started).
const connectionWait = 2 * time.Second

// connectionAPI is what one reconcile calls Connect Cases with: the client,
// limiter and catalog of the object's connection, or the reconciler's own
// for the operator's identity.
type connectionAPI struct {
	// name is the CasesConnection's name, "" for the operator's identity.
	name string
	// account identifies the AWS account the calls go to, for the scope of
	// field conflicts: the account id once the connection was checked,
	// otherwise the connection's name.
	account string
	cases   CaseUpdater
	limiter *cases.Limiter
	catalog *cases.Catalog
}

// apiKey is the context key of the reconcile's connectionAPI.
type apiKey struct{}

// withAPI returns ctx carrying the connection the connect phase selected,
// for the phases that follow and the helpers they call.
func (s *scope) withAPI(ctx context.Context) context.Context {
	if s.api == nil {
		return ctx
	}
	return context.WithValue(ctx, apiKey{}, s.api)
}

// apiOf returns the connection of the reconcile, or nil before the connect
// phase (and in reconcilers without connections).
func apiOf(ctx context.Context) *connectionAPI {
	api, _ := ctx.Value(apiKey{}).(*connectionAPI)
	return api
}

// casesAPI returns the Connect Cases client of the reconcile's connection.
func (r *CaseFieldUpdateReconciler) casesAPI(ctx context.Context) CaseUpdater {
	if api := apiOf(ctx); api != nil {
		return api.cases
	}
	return r.Cases
}

// limiterFor returns the rate limiter of the reconcile's connection.
func (r *CaseFieldUpdateReconciler) limiterFor(ctx context.Context) *cases.Limiter {
	if api := apiOf(ctx); api != nil {
		return api.limiter
	}
	return r.Limiter
}

// catalogFor returns the field catalog of the reconcile's connection.
func (r *CaseFieldUpdateReconciler) catalogFor(ctx context.Context) *cases.Catalog {
	if api := apiOf(ctx); api != nil {
		return api.catalog
	}
	return r.Catalog
}

// ownIdentity is the connectionAPI of the operator's own identity.
func (r *CaseFieldUpdateReconciler) ownIdentity() *connectionAPI {
	return &connectionAPI{cases: r.Cases, limiter: r.Limiter, catalog: r.Catalog, account: r.OwnAccount}
}

// connectPhase selects the connection the object uses and checks, before
// any AWS call, that it may: its namespace selected by the connection, its
// domain listed, and the connection Ready. A refusal stalls the object; the
// watches of connections and namespaces run it again when that changes.
func (r *CaseFieldUpdateReconciler) connectPhase(ctx context.Context, s *scope) (ctrl.Result, bool, error) {
	if r.Connections == nil {
		return ctrl.Result{}, false, nil
	}
	api, o, err := r.selectConnection(ctx, s.obj)
	switch {
	case err != nil:
		return ctrl.Result{}, true, err
	case o != nil && o.Reason == casesv1alpha1.ConnectionNotReadyReason && isApplied(s.obj):
		// The spec was applied: a connection that fails its check (an STS
		// outage) shows on Stalled, but does not take Ready away, nor send
		// the spec again once the connection recovers.
		setCheckFailed(s.obj, *o, s.now)
		return ctrl.Result{}, true, nil
	case o != nil:
		setStatus(s.obj, *o, false, s.now)
		return ctrl.Result{}, true, nil
	case api == nil:
		// Ready, but not built here yet: nothing to record.
		s.acknowledge = false
		return ctrl.Result{RequeueAfter: connectionWait}, true, nil
	}
	s.api = api
	return ctrl.Result{}, false, nil
}

// refused is the outcome of an object its connection does not serve.
func refused(reason, format string, args ...any) *Outcome {
	return &Outcome{Reason: reason, Message: fmt.Sprintf(format, args...), Retry: RetryNever}
}

// selectConnection finds the connection of obj and decides whether obj may
// use it. It returns the connection's API, or an outcome that refuses it,
// or neither when the connection is Ready but not built yet.
func (r *CaseFieldUpdateReconciler) selectConnection(ctx context.Context, obj *casesv1alpha1.CaseFieldUpdate) (*connectionAPI, *Outcome, error) {
	name, o, err := r.connectionName(ctx, obj)
	if err != nil || o != nil {
		return nil, o, err
	}
	if name == "" {
		return r.ownIdentity(), nil, nil
	}
	conn := &casesv1alpha1.CasesConnection{}
	if err := r.Get(ctx, client.ObjectKey{Name: name}, conn); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, refused(casesv1alpha1.ConnectionNotFoundReason, "CasesConnection %q does not exist", name), nil
		}
		return nil, nil, fmt.Errorf("failed to read CasesConnection %q: %w", name, err)
	}
	if o, err := r.permitted(ctx, obj, conn); err != nil || o != nil {
		return nil, o, err
	}
	ready := meta.FindStatusCondition(conn.Status.Conditions, casesv1alpha1.ReadyCondition)
	switch {
	case ready == nil || ready.ObservedGeneration != conn.Generation:
		return nil, refused(casesv1alpha1.ConnectionNotReadyReason, "CasesConnection %q is not checked yet", name), nil
	case ready.Status != metav1.ConditionTrue:
		return nil, refused(casesv1alpha1.ConnectionNotReadyReason, "CasesConnection %q is not ready: %s: %s", name, ready.Reason, ready.Message), nil
	}
	built, ok := r.Connections.Get(name)
	if !ok || !equality.Semantic.DeepEqual(built.Spec, conn.Spec) {
		return nil, nil, nil
	}
	return &connectionAPI{name: name, account: r.accountOf(name), cases: built.Cases, limiter: built.Limiter, catalog: built.Catalog}, nil, nil
}

// connectionName returns the name of the connection obj uses: its
// connectionRef, else the one connection marked default, else "" for the
// operator's identity, which --require-connection refuses.
func (r *CaseFieldUpdateReconciler) connectionName(ctx context.Context, obj *casesv1alpha1.CaseFieldUpdate) (string, *Outcome, error) {
	if ref := obj.Spec.ConnectionRef; ref != nil {
		return ref.Name, nil, nil
	}
	defaults, err := r.defaultConnections(ctx)
	if err != nil {
		return "", nil, err
	}
	switch {
	case len(defaults) == 1:
		return defaults[0], nil, nil
	case len(defaults) > 1:
		return "", refused(casesv1alpha1.ConnectionNotFoundReason,
			"Several CasesConnections are marked %s: %s; mark one, or set spec.connectionRef",
			casesv1alpha1.DefaultConnectionAnnotation, strings.Join(defaults, ", ")), nil
	case r.RequireConnection:
		return "", refused(casesv1alpha1.ConnectionNotFoundReason,
			"spec.connectionRef is not set and no CasesConnection is marked %s: the operator requires a connection",
			casesv1alpha1.DefaultConnectionAnnotation), nil
	}
	return "", nil, nil
}

// defaultConnections returns the names of the connections marked default,
// sorted.
func (r *CaseFieldUpdateReconciler) defaultConnections(ctx context.Context) ([]string, error) {
	list := &casesv1alpha1.CasesConnectionList{}
	if err := r.List(ctx, list); err != nil {
		return nil, fmt.Errorf("failed to list CasesConnections: %w", err)
	}
	var out []string
	for _, c := range list.Items {
		if c.Annotations[casesv1alpha1.DefaultConnectionAnnotation] == "true" && c.DeletionTimestamp.IsZero() {
			out = append(out, c.Name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// permitted decides whether conn serves obj: its namespaceSelector selects
// obj's namespace, read as metadata from the cache, and its domains list
// obj's domain.
func (r *CaseFieldUpdateReconciler) permitted(ctx context.Context, obj *casesv1alpha1.CaseFieldUpdate, conn *casesv1alpha1.CasesConnection) (*Outcome, error) {
	ns := &metav1.PartialObjectMetadata{}
	ns.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	if err := r.Get(ctx, client.ObjectKey{Name: obj.Namespace}, ns); err != nil {
		return nil, fmt.Errorf("failed to read namespace %q: %w", obj.Namespace, err)
	}
	if o := authorize(conn, obj.Namespace, ns.GetLabels(), obj.Spec.DomainID); o != nil {
		return o, nil
	}
	return nil, nil
}

// authorize is the pure decision of permitted.
func authorize(conn *casesv1alpha1.CasesConnection, namespace string, nsLabels map[string]string, domainID string) *Outcome {
	sel := conn.Spec.NamespaceSelector
	if sel == nil {
		return refused(casesv1alpha1.NotPermittedReason, "CasesConnection %q has no namespaceSelector: it serves no namespace", conn.Name)
	}
	selector, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return refused(casesv1alpha1.NotPermittedReason, "CasesConnection %q has an invalid namespaceSelector: %v", conn.Name, err)
	}
	if !selector.Matches(labels.Set(nsLabels)) {
		return refused(casesv1alpha1.NotPermittedReason, "CasesConnection %q does not serve namespace %q: its labels do not match the connection's namespaceSelector", conn.Name, namespace)
	}
	for _, d := range conn.Spec.Domains {
		if d == "*" || d == domainID {
			return nil
		}
	}
	return refused(casesv1alpha1.NotPermittedReason, "CasesConnection %q does not serve domain %q: it is not in the connection's domains", conn.Name, domainID)
}

// accountOf returns the account key of a connection for field conflicts:
// its account id once checked, else its name.
func (r *CaseFieldUpdateReconciler) accountOf(name string) string {
	if name == "" {
		return r.OwnAccount
	}
	if account, ok := r.Connections.Account(name); ok {
		return account
	}
	return "connection/" + name
}
