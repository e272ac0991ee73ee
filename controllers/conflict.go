package controllers

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/cases"
)

// claim is a field that an object sets, by its resolved id, with the
// resolved value.
type claim struct {
	field casesv1alpha1.ResolvedField
	value casesv1alpha1.FieldValue
}

// peerClaims are the fields a neighbour on the same case sets.
type peerClaims struct {
	// name is the neighbour's namespace/name.
	name   string
	claims []claim
}

// claimsOfResolution returns the fields a resolved object sets.
func claimsOfResolution(res *resolution) []claim {
	out := make([]claim, 0, len(res.fields))
	for i, f := range res.fields {
		out = append(out, claim{field: f, value: res.spec.Fields[i].Value})
	}
	return out
}

// claimsOf resolves what a neighbour sets of the fields in ids (the
// object's own resolved fields), as far as it can be resolved now: a field
// the object does not set cannot conflict, so its value is never read (no
// Secret or ConfigMap read for it). A field of the neighbour that cannot be
// resolved yet (an unknown name, a missing Secret, a value that does not
// convert) claims nothing: the neighbour cannot apply it either, and stalls
// on it before any call. Once it resolves (the Secret appears, the spec
// changes), the watches run both objects again and the conflict, if any,
// shows on both.
func (r *CaseFieldUpdateReconciler) claimsOf(ctx context.Context, peer *casesv1alpha1.CaseFieldUpdate, ids map[string]bool) peerClaims {
	out := peerClaims{name: peer.Namespace + "/" + peer.Name}
	catalog := r.catalogFor(ctx)
	var byID, byName map[string]cases.FieldInfo
	if catalog != nil {
		var err error
		if byID, byName, err = r.lookup(ctx, peer.Spec.DomainID, peer.Spec.Fields, false); err != nil {
			return out
		}
	}
	scratch := &resolution{}
	for _, f := range peer.Spec.Fields {
		info, found := cases.FieldInfo{ID: f.ID}, f.ID != "" && f.Value.ValueFrom == nil
		if catalog != nil {
			info, found = fieldInfo(f, byID, byName)
		}
		if !found || !ids[info.ID] {
			continue
		}
		v := *f.Value.DeepCopy()
		if v.ValueFrom != nil && r.readValueFrom(ctx, client.ObjectKeyFromObject(peer), info, &v, scratch) != nil {
			continue
		}
		out.claims = append(out.claims, claim{field: casesv1alpha1.ResolvedField{ID: info.ID, Name: info.Name, Type: info.Type}, value: v})
	}
	return out
}

// findConflicts returns, for an object's claims, the fields that neighbours
// set to another value, and who sets them. Fields are compared by resolved
// id, so an id and a name of the same field are the same field, and values
// by resolved value. It is a pure function; the message names every field by
// name and id and every other object involved, sorted, so that it does not
// flap between reconciles.
func findConflicts(spec casesv1alpha1.CaseFieldUpdateSpec, mine []claim, peers []peerClaims) (string, bool) {
	byID := make(map[string]claim, len(mine))
	for _, c := range mine {
		byID[c.field.ID] = c
	}
	who := map[string][]string{}
	for _, p := range peers {
		for _, c := range p.claims {
			if m, ok := byID[c.field.ID]; ok && !equality.Semantic.DeepEqual(m.value, c.value) {
				who[c.field.ID] = append(who[c.field.ID], p.name)
			}
		}
	}
	if len(who) == 0 {
		return "", false
	}
	ids := make([]string, 0, len(who))
	for id := range who {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	parts := make([]string, 0, len(ids))
	for _, id := range ids {
		names := who[id]
		sort.Strings(names)
		parts = append(parts, fmt.Sprintf("field %s is set to another value by CaseFieldUpdate %s", resolvedLabel(byID[id].field), strings.Join(names, ", ")))
	}
	return capitalise(fmt.Sprintf("Case %s in domain %s: %s; neither is applied until they agree",
		spec.CaseID, spec.DomainID, strings.Join(parts, "; "))), true
}
