package controllers

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	. "github.com/onsi/gomega"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

// resolved returns a claim on a field with a name, as the catalog resolves it.
func resolved(id, name string, v casesv1alpha1.FieldValue) claim {
	return claim{field: casesv1alpha1.ResolvedField{ID: id, Name: name}, value: v}
}

func str(v string) casesv1alpha1.FieldValue   { return casesv1alpha1.FieldValue{StringValue: new(v)} }
func boolean(v bool) casesv1alpha1.FieldValue { return casesv1alpha1.FieldValue{BooleanValue: new(v)} }

func TestFindConflicts(t *testing.T) {
	spec := casesv1alpha1.CaseFieldUpdateSpec{DomainID: "d", CaseID: "c"}
	mine := []claim{resolved("priority", "Priority", str("high")), resolved("escalated", "Escalated", boolean(true))}
	peer := func(name string, claims ...claim) peerClaims { return peerClaims{name: "ns/" + name, claims: claims} }
	tests := map[string]struct {
		peers   []peerClaims
		want    string
		wantHit bool
	}{
		"alone":        {},
		"same values":  {peers: []peerClaims{peer("b", resolved("priority", "Priority", str("high")))}},
		"other fields": {peers: []peerClaims{peer("b", resolved("summary", "Summary", str("x")))}},
		// Two objects that gave different fields by name used to be keyed on
		// their empty spec ids, and stalled each other.
		"other fields, both by name":            {peers: []peerClaims{peer("b", resolved("summary", "Summary", str("high")))}},
		"a neighbour that resolved nothing yet": {peers: []peerClaims{peer("b")}},
		"same field, other type": {peers: []peerClaims{peer("b", resolved("priority", "Priority", boolean(true)))}, wantHit: true,
			want: "Case c in domain d: field Priority (priority) is set to another value by CaseFieldUpdate ns/b; neither is applied until they agree"},
		"two fields, two objects": {peers: []peerClaims{peer("z", resolved("escalated", "Escalated", boolean(false))), peer("b", resolved("priority", "Priority", str("low"))), peer("a", resolved("priority", "Priority", str("medium")))}, wantHit: true,
			want: "Case c in domain d: field Escalated (escalated) is set to another value by CaseFieldUpdate ns/z; field Priority (priority) is set to another value by CaseFieldUpdate ns/a, ns/b; neither is applied until they agree"},
		// An id given as is (no catalog) is the same field as a name the
		// catalog resolved to that id.
		"same field by id and by name": {peers: []peerClaims{peer("b", claim{field: casesv1alpha1.ResolvedField{ID: "priority"}, value: str("low")})}, wantHit: true,
			want: "Case c in domain d: field Priority (priority) is set to another value by CaseFieldUpdate ns/b; neither is applied until they agree"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			msg, hit := findConflicts(spec, mine, tc.peers)
			g.Expect(hit).To(Equal(tc.wantHit))
			g.Expect(msg).To(Equal(tc.want))
		})
	}
}

func TestDriftedFields(t *testing.T) {
	res := &resolution{spec: casesv1alpha1.CaseFieldUpdateSpec{Fields: []casesv1alpha1.CaseField{
		stringField("priority", "high"), boolField("escalated", true), doubleField("score", 4.5),
		{ID: "due", Value: casesv1alpha1.FieldValue{EmptyValue: &casesv1alpha1.EmptyValue{}}},
		{ID: "owner", Value: casesv1alpha1.FieldValue{UserArnValue: new("arn:u")}},
	}}}
	for _, f := range res.spec.Fields {
		res.fields = append(res.fields, casesv1alpha1.ResolvedField{ID: f.ID, Name: "N-" + f.ID})
	}
	tests := map[string]struct {
		actual map[string]types.FieldValueUnion
		want   []string
	}{
		"all equal": {actual: map[string]types.FieldValueUnion{
			"priority":  &types.FieldValueUnionMemberStringValue{Value: "high"},
			"escalated": &types.FieldValueUnionMemberBooleanValue{Value: true},
			"score":     &types.FieldValueUnionMemberDoubleValue{Value: 4.5},
			"due":       &types.FieldValueUnionMemberEmptyValue{},
			"owner":     &types.FieldValueUnionMemberUserArnValue{Value: "arn:u"},
		}},
		"absent fields are empty": {actual: map[string]types.FieldValueUnion{
			"priority":  &types.FieldValueUnionMemberStringValue{Value: "high"},
			"escalated": &types.FieldValueUnionMemberBooleanValue{Value: true},
			"score":     &types.FieldValueUnionMemberDoubleValue{Value: 4.5},
			"owner":     &types.FieldValueUnionMemberUserArnValue{Value: "arn:u"},
		}},
		"changed, missing and retyped": {actual: map[string]types.FieldValueUnion{
			"priority":  &types.FieldValueUnionMemberStringValue{Value: "low"},
			"escalated": &types.FieldValueUnionMemberStringValue{Value: "true"},
			"due":       &types.FieldValueUnionMemberStringValue{Value: "2030-01-01"},
			"owner":     &types.FieldValueUnionMemberUserArnValue{Value: "arn:u"},
		}, want: []string{"priority", "escalated", "score", "due"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var got []string
			for _, f := range driftedFields(res, tc.actual) {
				got = append(got, f.ID)
			}
			NewWithT(t).Expect(got).To(Equal(tc.want))
		})
	}
}
