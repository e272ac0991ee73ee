package controllers

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

// readCase reads the spec's fields of the case with GetCase, following
// nextToken, and returns the values by field id. Fields without a value are
// absent.
func (r *CaseFieldUpdateReconciler) readCase(ctx context.Context, spec casesv1alpha1.CaseFieldUpdateSpec) (map[string]types.FieldValueUnion, error) {
	ids := make([]types.FieldIdentifier, 0, len(spec.Fields))
	for _, f := range spec.Fields {
		ids = append(ids, types.FieldIdentifier{Id: aws.String(f.ID)})
	}
	in := &connectcases.GetCaseInput{DomainId: aws.String(spec.DomainID), CaseId: aws.String(spec.CaseID), Fields: ids}
	values := make(map[string]types.FieldValueUnion, len(ids))
	for {
		out, err := r.Cases.GetCase(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, f := range out.Fields {
			if f.Id != nil {
				values[*f.Id] = f.Value
			}
		}
		if out.NextToken == nil || *out.NextToken == "" {
			return values, nil
		}
		in.NextToken = out.NextToken
	}
}

// driftedFields returns the ids of the spec's fields whose value on the case
// differs from the spec. It is a pure function.
func driftedFields(spec casesv1alpha1.CaseFieldUpdateSpec, actual map[string]types.FieldValueUnion) []string {
	var out []string
	for _, f := range spec.Fields {
		if !sameValue(f.Value, actual[f.ID]) {
			out = append(out, f.ID)
		}
	}
	return out
}

// sameValue reports whether a case's value equals the spec's. An absent
// value and an emptyValue are the same.
func sameValue(want casesv1alpha1.FieldValue, got types.FieldValueUnion) bool {
	switch g := got.(type) {
	case nil, *types.FieldValueUnionMemberEmptyValue:
		return want.EmptyValue != nil
	case *types.FieldValueUnionMemberBooleanValue:
		return want.BooleanValue != nil && *want.BooleanValue == g.Value
	case *types.FieldValueUnionMemberDoubleValue:
		return want.DoubleValue != nil && *want.DoubleValue == g.Value
	case *types.FieldValueUnionMemberStringValue:
		return want.StringValue != nil && *want.StringValue == g.Value
	case *types.FieldValueUnionMemberUserArnValue:
		return want.UserArnValue != nil && *want.UserArnValue == g.Value
	default:
		return false
	}
}

// driftMessage describes a drift for the Event.
func driftMessage(obj *casesv1alpha1.CaseFieldUpdate, fields []string) string {
	return fmt.Sprintf("Fields %v of case %s differ from the spec: applying it again", fields, obj.Spec.CaseID)
}
