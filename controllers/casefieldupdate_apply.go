package controllers

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	ctrl "sigs.k8s.io/controller-runtime"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/cases"
)

// apply builds and sends the UpdateCase request of a resolved spec. It
// reports the outcome, its message free of Secret-sourced values, and
// whether AWS was called.
func (r *CaseFieldUpdateReconciler) apply(ctx context.Context, obj *casesv1alpha1.CaseFieldUpdate, res *resolution) (Outcome, bool) {
	log := ctrl.LoggerFrom(ctx)
	in, err := BuildUpdateCaseInput(res.spec)
	if err != nil {
		log.Info("Spec rejected before any call", "error", err.Error())
		return localValidationOutcome(err), false
	}

	callCtx, cancel := context.WithTimeout(ctx, r.callTimeout())
	defer cancel()
	sent := r.callStart(ctx)
	out, err := r.casesAPI(ctx).UpdateCase(callCtx, in)
	r.observe(ctx, "UpdateCase", sent, err)
	if err != nil {
		o := redactOutcome(ClassifyUpdateError(err), res.secrets)
		r.forgetRejected(ctx, obj.Spec.DomainID, res.spec.Fields, err)
		log.Info("UpdateCase failed", "reason", o.Reason, "requestId", o.RequestID, "error", o.Message)
		return o, true
	}
	requestID := cases.RequestIDFromMetadata(out.ResultMetadata)
	log.Info("UpdateCase applied", "requestId", requestID, "fields", len(in.Fields))
	return appliedOutcome(obj, requestID), true
}

// forgetRejected drops from the field catalog what a rejection says may be
// stale, and nothing more: the field a ResourceNotFoundException names, or,
// after a ValidationException, the request's fields and their options (a
// renamed field, a changed type, a deactivated option). A missing case or
// domain says nothing of the fields and leaves the catalog alone.
func (r *CaseFieldUpdateReconciler) forgetRejected(ctx context.Context, domainID string, fields []casesv1alpha1.CaseField, err error) {
	catalog := r.catalogFor(ctx)
	if catalog == nil {
		return
	}
	var notFound *types.ResourceNotFoundException
	var invalid *types.ValidationException
	switch {
	case errors.As(err, &notFound):
		if aws.ToString(notFound.ResourceType) == "Field" {
			catalog.InvalidateField(domainID, aws.ToString(notFound.ResourceId))
		}
	case errors.As(err, &invalid):
		for _, f := range fields {
			catalog.InvalidateField(domainID, f.ID)
		}
	}
}
