package controllers

import (
	"context"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

// caseIndexKey is the name of the cache index of CaseFieldUpdates by the case
// they update.
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
