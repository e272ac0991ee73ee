package controllers

import (
	"fmt"
	"math"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

// BuildUpdateCaseInput turns a spec into the UpdateCase request that applies
// it. It is a pure function of the spec.
//
// The API server already enforces the spec's schema at admission; the checks
// here hold the same rules for objects that reached the reconciler another
// way (an older CRD, a client that skipped validation) and for what JSON
// cannot express, such as a NaN double. A failed check is a ValidationError
// and costs no API call.
func BuildUpdateCaseInput(spec casesv1alpha1.CaseFieldUpdateSpec) (*connectcases.UpdateCaseInput, error) {
	if spec.DomainID == "" {
		return nil, fmt.Errorf("spec.domainId is required")
	}
	if spec.CaseID == "" {
		return nil, fmt.Errorf("spec.caseId is required")
	}
	if len(spec.Fields) == 0 {
		return nil, fmt.Errorf("spec.fields must list at least one field")
	}
	if len(spec.Fields) > maxFieldsPerUpdate {
		return nil, fmt.Errorf("spec.fields lists %d fields, UpdateCase accepts at most %d", len(spec.Fields), maxFieldsPerUpdate)
	}

	seen := make(map[string]int, len(spec.Fields))
	fields := make([]types.FieldValue, 0, len(spec.Fields))
	for i, f := range spec.Fields {
		if f.ID == "" {
			return nil, fmt.Errorf("spec.fields[%d] has no field id: a field name must be resolved to its id first", i)
		}
		if j, dup := seen[f.ID]; dup {
			return nil, fmt.Errorf("spec.fields[%d] repeats field %q of spec.fields[%d]", i, f.ID, j)
		}
		seen[f.ID] = i
		v, err := fieldValueUnion(f.Value)
		if err != nil {
			return nil, fmt.Errorf("spec.fields[%d] (field %q): %w", i, f.ID, err)
		}
		fields = append(fields, types.FieldValue{Id: aws.String(f.ID), Value: v})
	}

	in := &connectcases.UpdateCaseInput{
		DomainId: aws.String(spec.DomainID),
		CaseId:   aws.String(spec.CaseID),
		Fields:   fields,
	}
	if spec.PerformedBy != nil {
		pb, err := userUnion(*spec.PerformedBy)
		if err != nil {
			return nil, fmt.Errorf("spec.performedBy: %w", err)
		}
		in.PerformedBy = pb
	}
	return in, nil
}

// maxFieldsPerUpdate is the most fields one UpdateCase call accepts.
const maxFieldsPerUpdate = 220

// fieldValueUnion converts the spec's value to the SDK's union, requiring
// exactly one member.
func fieldValueUnion(v casesv1alpha1.FieldValue) (types.FieldValueUnion, error) {
	var out []types.FieldValueUnion
	if v.BooleanValue != nil {
		out = append(out, &types.FieldValueUnionMemberBooleanValue{Value: *v.BooleanValue})
	}
	if v.DoubleValue != nil {
		d := *v.DoubleValue
		if math.IsNaN(d) || math.IsInf(d, 0) {
			return nil, fmt.Errorf("doubleValue must be a finite number")
		}
		out = append(out, &types.FieldValueUnionMemberDoubleValue{Value: d})
	}
	if v.StringValue != nil {
		out = append(out, &types.FieldValueUnionMemberStringValue{Value: *v.StringValue})
	}
	if v.EmptyValue != nil {
		out = append(out, &types.FieldValueUnionMemberEmptyValue{Value: types.EmptyFieldValue{}})
	}
	if v.UserArnValue != nil {
		out = append(out, &types.FieldValueUnionMemberUserArnValue{Value: *v.UserArnValue})
	}
	if v.ValueFrom != nil {
		return nil, fmt.Errorf("valueFrom must be resolved to a value first")
	}
	if len(out) != 1 {
		return nil, fmt.Errorf("value must set exactly one of booleanValue, doubleValue, stringValue, emptyValue or userArnValue, got %d", len(out))
	}
	return out[0], nil
}

// userUnion converts performedBy to the SDK's union, requiring exactly one
// member.
func userUnion(p casesv1alpha1.PerformedBy) (types.UserUnion, error) {
	switch {
	case p.UserArn != nil && p.CustomEntity == nil:
		return &types.UserUnionMemberUserArn{Value: *p.UserArn}, nil
	case p.CustomEntity != nil && p.UserArn == nil:
		return &types.UserUnionMemberCustomEntity{Value: *p.CustomEntity}, nil
	default:
		return nil, fmt.Errorf("exactly one of userArn or customEntity must be set")
	}
}
