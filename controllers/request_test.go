package controllers

import (
	"math"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	. "github.com/onsi/gomega"
	"k8s.io/utils/ptr"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

func TestBuildUpdateCaseInput(t *testing.T) {
	field := func(id string, v casesv1alpha1.FieldValue) casesv1alpha1.CaseField {
		return casesv1alpha1.CaseField{ID: id, Value: v}
	}
	spec := func(fields ...casesv1alpha1.CaseField) casesv1alpha1.CaseFieldUpdateSpec {
		return casesv1alpha1.CaseFieldUpdateSpec{DomainID: "d-1", CaseID: "c-1", Fields: fields}
	}

	tests := map[string]struct {
		spec    casesv1alpha1.CaseFieldUpdateSpec
		want    *connectcases.UpdateCaseInput
		wantErr string
	}{
		"every value type in spec order": {
			spec: spec(
				field("b", casesv1alpha1.FieldValue{BooleanValue: ptr.To(true)}),
				field("d", casesv1alpha1.FieldValue{DoubleValue: ptr.To(4.5)}),
				field("s", casesv1alpha1.FieldValue{StringValue: ptr.To("high")}),
				field("e", casesv1alpha1.FieldValue{EmptyValue: &casesv1alpha1.EmptyValue{}}),
				field("u", casesv1alpha1.FieldValue{UserArnValue: ptr.To("arn:aws:connect:us-east-1:1:instance/i/agent/a")}),
			),
			want: &connectcases.UpdateCaseInput{
				DomainId: aws.String("d-1"),
				CaseId:   aws.String("c-1"),
				Fields: []types.FieldValue{
					{Id: aws.String("b"), Value: &types.FieldValueUnionMemberBooleanValue{Value: true}},
					{Id: aws.String("d"), Value: &types.FieldValueUnionMemberDoubleValue{Value: 4.5}},
					{Id: aws.String("s"), Value: &types.FieldValueUnionMemberStringValue{Value: "high"}},
					{Id: aws.String("e"), Value: &types.FieldValueUnionMemberEmptyValue{Value: types.EmptyFieldValue{}}},
					{Id: aws.String("u"), Value: &types.FieldValueUnionMemberUserArnValue{Value: "arn:aws:connect:us-east-1:1:instance/i/agent/a"}},
				},
			},
		},
		"performedBy user": {
			spec: func() casesv1alpha1.CaseFieldUpdateSpec {
				s := spec(field("b", casesv1alpha1.FieldValue{BooleanValue: ptr.To(false)}))
				s.PerformedBy = &casesv1alpha1.PerformedBy{UserArn: ptr.To("arn:u")}
				return s
			}(),
			want: &connectcases.UpdateCaseInput{
				DomainId:    aws.String("d-1"),
				CaseId:      aws.String("c-1"),
				Fields:      []types.FieldValue{{Id: aws.String("b"), Value: &types.FieldValueUnionMemberBooleanValue{Value: false}}},
				PerformedBy: &types.UserUnionMemberUserArn{Value: "arn:u"},
			},
		},
		"performedBy custom entity": {
			spec: func() casesv1alpha1.CaseFieldUpdateSpec {
				s := spec(field("b", casesv1alpha1.FieldValue{BooleanValue: ptr.To(false)}))
				s.PerformedBy = &casesv1alpha1.PerformedBy{CustomEntity: ptr.To("gitops")}
				return s
			}(),
			want: &connectcases.UpdateCaseInput{
				DomainId:    aws.String("d-1"),
				CaseId:      aws.String("c-1"),
				Fields:      []types.FieldValue{{Id: aws.String("b"), Value: &types.FieldValueUnionMemberBooleanValue{Value: false}}},
				PerformedBy: &types.UserUnionMemberCustomEntity{Value: "gitops"},
			},
		},
		"no value member": {
			spec:    spec(field("a", casesv1alpha1.FieldValue{})),
			wantErr: `spec.fields[0] (field "a"): value must set exactly one`,
		},
		"two value members": {
			spec:    spec(field("a", casesv1alpha1.FieldValue{BooleanValue: ptr.To(true), StringValue: ptr.To("x")})),
			wantErr: "got 2",
		},
		"duplicate field": {
			spec: spec(
				field("a", casesv1alpha1.FieldValue{BooleanValue: ptr.To(true)}),
				field("a", casesv1alpha1.FieldValue{BooleanValue: ptr.To(false)}),
			),
			wantErr: `spec.fields[1] repeats field "a" of spec.fields[0]`,
		},
		"NaN double": {
			spec:    spec(field("a", casesv1alpha1.FieldValue{DoubleValue: ptr.To(math.NaN())})),
			wantErr: "doubleValue must be a finite number",
		},
		"no fields": {
			spec:    spec(),
			wantErr: "spec.fields must list at least one field",
		},
		"too many fields": {
			spec: func() casesv1alpha1.CaseFieldUpdateSpec {
				s := spec()
				for i := range 221 {
					s.Fields = append(s.Fields, field(strings.Repeat("f", i+1), casesv1alpha1.FieldValue{BooleanValue: ptr.To(true)}))
				}
				return s
			}(),
			wantErr: "lists 221 fields, UpdateCase accepts at most 220",
		},
		"missing case": {
			spec:    casesv1alpha1.CaseFieldUpdateSpec{DomainID: "d", Fields: []casesv1alpha1.CaseField{field("a", casesv1alpha1.FieldValue{BooleanValue: ptr.To(true)})}},
			wantErr: "spec.caseId is required",
		},
		"performedBy with both members": {
			spec: func() casesv1alpha1.CaseFieldUpdateSpec {
				s := spec(field("b", casesv1alpha1.FieldValue{BooleanValue: ptr.To(false)}))
				s.PerformedBy = &casesv1alpha1.PerformedBy{UserArn: ptr.To("a"), CustomEntity: ptr.To("b")}
				return s
			}(),
			wantErr: "spec.performedBy: exactly one of userArn or customEntity",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := BuildUpdateCaseInput(tc.spec)
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreUnexported(
				connectcases.UpdateCaseInput{}, types.FieldValue{},
				types.FieldValueUnionMemberBooleanValue{}, types.FieldValueUnionMemberDoubleValue{},
				types.FieldValueUnionMemberStringValue{}, types.FieldValueUnionMemberEmptyValue{},
				types.FieldValueUnionMemberUserArnValue{}, types.EmptyFieldValue{},
				types.UserUnionMemberUserArn{}, types.UserUnionMemberCustomEntity{},
			)); diff != "" {
				t.Errorf("BuildUpdateCaseInput() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzBuildUpdateCaseInput checks that any spec either builds a request that
// mirrors it field for field, or is rejected with an error; never a panic.
func FuzzBuildUpdateCaseInput(f *testing.F) {
	f.Add("d", "c", "f1", uint8(0), "x", 1.5, true)
	f.Add("", "c", "f1", uint8(2), "", math.Inf(1), false)
	f.Add("d", "", "", uint8(5), "arn", 0.0, true)
	f.Fuzz(func(t *testing.T, domain, caseID, fieldID string, kind uint8, s string, d float64, b bool) {
		v := casesv1alpha1.FieldValue{}
		switch kind % 6 {
		case 0:
			v.StringValue = &s
		case 1:
			v.DoubleValue = &d
		case 2:
			v.BooleanValue = &b
		case 3:
			v.EmptyValue = &casesv1alpha1.EmptyValue{}
		case 4:
			v.UserArnValue = &s
		case 5: // no member
		}
		spec := casesv1alpha1.CaseFieldUpdateSpec{DomainID: domain, CaseID: caseID,
			Fields: []casesv1alpha1.CaseField{{ID: fieldID, Value: v}}}
		in, err := BuildUpdateCaseInput(spec)
		if err != nil {
			if in != nil {
				t.Fatalf("got both a request and an error %v", err)
			}
			return
		}
		if *in.DomainId != domain || *in.CaseId != caseID || len(in.Fields) != 1 || *in.Fields[0].Id != fieldID {
			t.Fatalf("request does not mirror the spec: %+v", in)
		}
		if domain == "" || caseID == "" || fieldID == "" || kind%6 == 5 || (kind%6 == 1 && (math.IsNaN(d) || math.IsInf(d, 0))) {
			t.Fatalf("invalid spec %+v was accepted", spec)
		}
	})
}
