package controllers

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

// The index names and values that controller-runtime's cache reader looks
// up for client.MatchingFields{field: v} (sigs.k8s.io/controller-runtime,
// pkg/cache/internal: FieldIndexName and KeyToNamespacedKey).
const (
	fieldIndexPrefix = "field:"
	allNamespacesKey = "__all_namespaces/"
)

// indexField adds the index field of CaseFieldUpdates to their informer in
// informers, so that the cache's List answers client.MatchingFields{field:
// v} across the cluster. It is the cache's IndexField, less one of its two
// copies: IndexField stores every value once for the whole cluster and once
// for the object's namespace, each a set of its own in client-go's indexer,
// which for an index of about one value per object, such as the case, is
// two small maps per object (about 5 MiB at 10,000 objects). Every lookup of
// the reconciler is cluster-wide, so only that copy is stored: a lookup
// within a namespace (client.InNamespace) finds nothing.
func indexField(ctx context.Context, informers cache.Informers, field string, extract client.IndexerFunc) error {
	inf, err := informers.GetInformer(ctx, &casesv1alpha1.CaseFieldUpdate{}, cache.BlockUntilSynced(false))
	if err != nil {
		return err
	}
	return inf.AddIndexers(toolscache.Indexers{fieldIndexPrefix + field: func(o any) ([]string, error) {
		obj, ok := o.(client.Object)
		if !ok {
			return nil, fmt.Errorf("object of type %T is not an Object", o)
		}
		vals := extract(obj)
		for i, v := range vals {
			vals[i] = allNamespacesKey + v
		}
		return vals, nil
	}})
}

// caseIndexKey is the name of the cache index of CaseFieldUpdates by the case
// they update, across the cluster.
const caseIndexKey = ".spec.case"

// caseKey returns the index value of obj: its domain and case.
func caseKey(obj *casesv1alpha1.CaseFieldUpdate) string {
	return obj.Spec.DomainID + "/" + obj.Spec.CaseID
}

// indexByCase is the index function of caseIndexKey.
func indexByCase(o client.Object) []string {
	obj, ok := o.(*casesv1alpha1.CaseFieldUpdate)
	if !ok {
		return nil
	}
	return []string{caseKey(obj)}
}

// sameCase lists the other objects that update the same case as obj, from
// the cache's index.
func (r *CaseFieldUpdateReconciler) sameCase(ctx context.Context, obj *casesv1alpha1.CaseFieldUpdate) ([]casesv1alpha1.CaseFieldUpdate, error) {
	list := &casesv1alpha1.CaseFieldUpdateList{}
	if err := r.List(ctx, list, client.MatchingFields{caseIndexKey: caseKey(obj)}); err != nil {
		return nil, err
	}
	out := list.Items[:0]
	for _, o := range list.Items {
		if o.UID != obj.UID && o.DeletionTimestamp.IsZero() {
			out = append(out, o)
		}
	}
	return out, nil
}

// peersOf maps a changed object to the other objects of the same case, so
// that a conflict is re-examined on both sides when either side changes or
// goes away.
func (r *CaseFieldUpdateReconciler) peersOf(ctx context.Context, o client.Object) []reconcile.Request {
	obj, ok := o.(*casesv1alpha1.CaseFieldUpdate)
	if !ok {
		return nil
	}
	list := &casesv1alpha1.CaseFieldUpdateList{}
	if err := r.List(ctx, list, client.MatchingFields{caseIndexKey: caseKey(obj)}); err != nil {
		return nil
	}
	var reqs []reconcile.Request
	for _, p := range list.Items {
		if p.UID != obj.UID {
			reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: p.Namespace, Name: p.Name}})
		}
	}
	return reqs
}
