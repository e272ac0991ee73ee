package controllers

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

// driftDetected counts the drifts that Enforce objects found and repaired.
var driftDetected = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "connectcases_drift_detected_total",
	Help: "Drifts found by Enforce CaseFieldUpdates: a field of the case differed from the spec and was applied again.",
}, []string{"namespace"})

func init() {
	ctrlmetrics.Registry.MustRegister(driftDetected)
}

// readCase reads the resolved spec's fields of the case with GetCase, each
// page under its own deadline, following nextToken, and returns the values
// by field id. Fields without a value are absent.
func (r *CaseFieldUpdateReconciler) readCase(ctx context.Context, spec casesv1alpha1.CaseFieldUpdateSpec) (map[string]types.FieldValueUnion, error) {
	ids := make([]types.FieldIdentifier, 0, len(spec.Fields))
	for _, f := range spec.Fields {
		ids = append(ids, types.FieldIdentifier{Id: aws.String(f.ID)})
	}
	in := &connectcases.GetCaseInput{DomainId: aws.String(spec.DomainID), CaseId: aws.String(spec.CaseID), Fields: ids}
	values := make(map[string]types.FieldValueUnion, len(ids))
	for {
		callCtx, cancel := context.WithTimeout(ctx, r.callTimeout())
		out, err := r.casesAPI(ctx).GetCase(callCtx, in)
		cancel()
		if err != nil {
			return nil, err
		}
		for _, f := range out.Fields {
			if f.Id != nil {
				values[*f.Id] = f.Value
			}
		}
		if aws.ToString(out.NextToken) == "" {
			return values, nil
		}
		in.NextToken = out.NextToken
	}
}

// driftedFields returns the resolved fields whose value on the case differs
// from the resolved value. It is a pure function.
func driftedFields(res *resolution, actual map[string]types.FieldValueUnion) []casesv1alpha1.ResolvedField {
	var out []casesv1alpha1.ResolvedField
	for i, f := range res.spec.Fields {
		if !sameValue(f.Value, actual[f.ID]) {
			out = append(out, res.fields[i])
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

// driftMessage describes a drift for the Event, naming each field by name
// and id.
func driftMessage(obj *casesv1alpha1.CaseFieldUpdate, fields []casesv1alpha1.ResolvedField) string {
	labels := make([]string, 0, len(fields))
	for _, f := range fields {
		labels = append(labels, resolvedLabel(f))
	}
	return fmt.Sprintf("%s %s of case %s %s from the spec: applying it again", plural(len(fields), "Field", "Fields"),
		strings.Join(labels, ", "), obj.Spec.CaseID, plural(len(fields), "differs", "differ"))
}
