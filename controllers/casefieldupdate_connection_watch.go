package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlevent "sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

// connectionIndexKey is the name of the cache index of CaseFieldUpdates by
// the connection they name, across the cluster; "" for those that name none.
const connectionIndexKey = ".spec.connectionRef"

// indexByConnection is the index function of connectionIndexKey.
func indexByConnection(o client.Object) []string {
	obj, ok := o.(*casesv1alpha1.CaseFieldUpdate)
	if !ok {
		return nil
	}
	if obj.Spec.ConnectionRef == nil {
		return []string{""}
	}
	return []string{obj.Spec.ConnectionRef.Name}
}

// watchConnections adds, when the reconciler has connections, the index
// and the watches that run objects again when their connection or the
// labels of their namespace change. Connections are watched whole (their
// controller caches them anyway), namespaces as metadata.
func (r *CaseFieldUpdateReconciler) watchConnections(mgr ctrl.Manager, b *builder.Builder) (*builder.Builder, error) {
	if r.Connections == nil {
		return b, nil
	}
	if err := indexField(context.Background(), mgr.GetCache(), connectionIndexKey, indexByConnection); err != nil {
		return nil, fmt.Errorf("failed to index CaseFieldUpdates by connection: %w", err)
	}
	return b.Watches(&casesv1alpha1.CasesConnection{}, handler.EnqueueRequestsFromMapFunc(r.usersOf),
		builder.WithPredicates(predicate.Funcs{UpdateFunc: connectionChanged})).
		WatchesMetadata(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(r.inNamespace),
			builder.WithPredicates(predicate.LabelChangedPredicate{})), nil
}

// connectionChanged reports whether a connection changed in a way its
// objects see: its spec, its default mark, or its Ready condition. A check
// that only moved credentialsExpireTime runs no object.
func connectionChanged(e ctrlevent.UpdateEvent) bool {
	oldConn, ok1 := e.ObjectOld.(*casesv1alpha1.CasesConnection)
	newConn, ok2 := e.ObjectNew.(*casesv1alpha1.CasesConnection)
	if !ok1 || !ok2 {
		return true
	}
	ready := func(c *casesv1alpha1.CasesConnection) metav1.Condition {
		if cond := meta.FindStatusCondition(c.Status.Conditions, casesv1alpha1.ReadyCondition); cond != nil {
			return metav1.Condition{Status: cond.Status, Reason: cond.Reason, Message: cond.Message, ObservedGeneration: cond.ObservedGeneration}
		}
		return metav1.Condition{}
	}
	return oldConn.Generation != newConn.Generation ||
		oldConn.Annotations[casesv1alpha1.DefaultConnectionAnnotation] != newConn.Annotations[casesv1alpha1.DefaultConnectionAnnotation] ||
		ready(oldConn) != ready(newConn)
}

// usersOf maps a changed connection to the objects that use it: those that
// name it, and, when it is marked default, those that name none. For an
// update it is called with the old and the new object, so that a default
// mark removed reaches the objects too.
func (r *CaseFieldUpdateReconciler) usersOf(ctx context.Context, o client.Object) []reconcile.Request {
	keys := []string{o.GetName()}
	if o.GetAnnotations()[casesv1alpha1.DefaultConnectionAnnotation] == "true" {
		keys = append(keys, "")
	}
	var reqs []reconcile.Request
	for _, key := range keys {
		list := &casesv1alpha1.CaseFieldUpdateList{}
		if err := r.List(ctx, list, client.MatchingFields{connectionIndexKey: key}); err != nil {
			continue
		}
		for _, p := range list.Items {
			reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: p.Namespace, Name: p.Name}})
		}
	}
	return reqs
}

// inNamespace maps a namespace whose labels changed to its objects.
func (r *CaseFieldUpdateReconciler) inNamespace(ctx context.Context, o client.Object) []reconcile.Request {
	list := &casesv1alpha1.CaseFieldUpdateList{}
	if err := r.List(ctx, list, client.InNamespace(o.GetName())); err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, p := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: p.Namespace, Name: p.Name}})
	}
	return reqs
}

// peersInAccount keeps the neighbours whose calls go to the same AWS
// account as the object's: a case of one account's domain is not the case
// of the same ids in another account.
func (r *CaseFieldUpdateReconciler) peersInAccount(ctx context.Context, own *connectionAPI, peers []casesv1alpha1.CaseFieldUpdate) ([]casesv1alpha1.CaseFieldUpdate, error) {
	if r.Connections == nil || own == nil || len(peers) == 0 {
		return peers, nil
	}
	defaults, err := r.defaultConnections(ctx)
	if err != nil {
		return nil, err
	}
	def := ""
	if len(defaults) == 1 {
		def = defaults[0]
	}
	out := peers[:0]
	for _, p := range peers {
		name := def
		if p.Spec.ConnectionRef != nil {
			name = p.Spec.ConnectionRef.Name
		}
		if r.accountOf(name) == own.account {
			out = append(out, p)
		}
	}
	return out, nil
}
