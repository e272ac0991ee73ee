package controllers

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

// findConflicts returns, for obj, the fields that other objects of the same
// case set to another value, and who sets them. It is a pure function; the
// message names every other object involved, sorted, so that it does not
// flap between reconciles.
func findConflicts(obj *casesv1alpha1.CaseFieldUpdate, others []casesv1alpha1.CaseFieldUpdate) (string, bool) {
	mine := make(map[string]casesv1alpha1.FieldValue, len(obj.Spec.Fields))
	for _, f := range obj.Spec.Fields {
		mine[f.ID] = f.Value
	}
	byField := map[string][]string{}
	for _, o := range others {
		for _, f := range o.Spec.Fields {
			if v, ok := mine[f.ID]; ok && !equality.Semantic.DeepEqual(v, f.Value) {
				byField[f.ID] = append(byField[f.ID], o.Namespace+"/"+o.Name)
			}
		}
	}
	if len(byField) == 0 {
		return "", false
	}
	ids := make([]string, 0, len(byField))
	for id := range byField {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	parts := make([]string, 0, len(ids))
	for _, id := range ids {
		who := byField[id]
		sort.Strings(who)
		parts = append(parts, fmt.Sprintf("field %s is set to another value by CaseFieldUpdate %s", id, strings.Join(who, ", ")))
	}
	return capitalise(fmt.Sprintf("Case %s in domain %s: %s; neither is applied until they agree",
		obj.Spec.CaseID, obj.Spec.DomainID, strings.Join(parts, "; "))), true
}
