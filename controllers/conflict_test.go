package controllers

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8stypes "k8s.io/apimachinery/pkg/types"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

func TestFindConflicts(t *testing.T) {
	obj := func(name string, fields ...casesv1alpha1.CaseField) casesv1alpha1.CaseFieldUpdate {
		return casesv1alpha1.CaseFieldUpdate{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: k8stypes.UID(name)},
			Spec:       casesv1alpha1.CaseFieldUpdateSpec{DomainID: "d", CaseID: "c", Fields: fields},
		}
	}
	me := obj("me", stringField("priority", "high"), boolField("escalated", true))
	tests := map[string]struct {
		others  []casesv1alpha1.CaseFieldUpdate
		want    string
		wantHit bool
	}{
		"alone":                   {},
		"same values":             {others: []casesv1alpha1.CaseFieldUpdate{obj("b", stringField("priority", "high"))}},
		"other fields":            {others: []casesv1alpha1.CaseFieldUpdate{obj("b", stringField("summary", "x"))}},
		"same field, other type":  {others: []casesv1alpha1.CaseFieldUpdate{obj("b", boolField("priority", true))}, wantHit: true, want: "Case c in domain d: field priority is set to another value by CaseFieldUpdate ns/b; neither is applied until they agree"},
		"two fields, two objects": {others: []casesv1alpha1.CaseFieldUpdate{obj("z", boolField("escalated", false)), obj("b", stringField("priority", "low")), obj("a", stringField("priority", "medium"))}, wantHit: true, want: "Case c in domain d: field escalated is set to another value by CaseFieldUpdate ns/z; field priority is set to another value by CaseFieldUpdate ns/a, ns/b; neither is applied until they agree"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			msg, hit := findConflicts(&me, tc.others)
			g.Expect(hit).To(Equal(tc.wantHit))
			g.Expect(msg).To(Equal(tc.want))
		})
	}
}

func TestDriftedFields(t *testing.T) {
	spec := casesv1alpha1.CaseFieldUpdateSpec{Fields: []casesv1alpha1.CaseField{
		stringField("priority", "high"), boolField("escalated", true), doubleField("score", 4.5),
		{ID: "due", Value: casesv1alpha1.FieldValue{EmptyValue: &casesv1alpha1.EmptyValue{}}},
		{ID: "owner", Value: casesv1alpha1.FieldValue{UserArnValue: new("arn:u")}},
	}}
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
			NewWithT(t).Expect(driftedFields(spec, tc.actual)).To(Equal(tc.want))
		})
	}
}
