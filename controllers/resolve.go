package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/cases"
)

// resolution is a spec made ready to send: every field by id, every value
// concrete, with what the status records of it. Every phase after the
// resolution (conflicts, drift, the request, Events, status) uses it, never
// the raw spec.
type resolution struct {
	// spec is the spec with every field by id and every value concrete.
	spec casesv1alpha1.CaseFieldUpdateSpec
	// fields are the resolved fields, in spec order; on a failed resolution,
	// those resolved before the failure.
	fields []casesv1alpha1.ResolvedField
	// references are the Secrets and ConfigMaps read, failed reads of an
	// existing one included.
	references []casesv1alpha1.ValueReference
	// secrets are the texts taken from Secrets, in every form they may take
	// in a message, to redact them.
	secrets []string
}

// errRateLimited carries a requeue delay out of the resolution.
type errRateLimited struct{ wait time.Duration }

func (e errRateLimited) Error() string { return fmt.Sprintf("rate limited for %s", e.wait) }

// rateLimitedWait reports whether err asks for a requeue after a wait for
// the rate limiter, and the wait.
func rateLimitedWait(err error) (time.Duration, bool) {
	var rl errRateLimited
	if errors.As(err, &rl) {
		return rl.wait, true
	}
	return 0, false
}

// resolve looks up the spec's fields in the domain's catalog, reads the
// values of valueFrom and checks every value against its field's type and
// options, before any UpdateCase. A problem is returned as an outcome, with
// the resolution so far (for the status); an errRateLimited error asks for a
// requeue.
func (r *CaseFieldUpdateReconciler) resolve(ctx context.Context, obj *casesv1alpha1.CaseFieldUpdate) (*resolution, *Outcome, error) {
	res := &resolution{spec: *obj.Spec.DeepCopy()}
	if r.catalogFor(ctx) == nil {
		return res, r.resolveWithoutCatalog(res), nil
	}
	byID, byName, err := r.lookup(ctx, obj.Spec.DomainID, obj.Spec.Fields, true)
	if err != nil {
		return res, readOutcome(err), rateLimited(err)
	}
	for i := range res.spec.Fields {
		f := &res.spec.Fields[i]
		info, found := fieldInfo(*f, byID, byName)
		if !found {
			return res, unknownFieldOutcome(obj.Spec.DomainID, f.ID, f.Name), nil
		}
		f.ID, f.Name = info.ID, ""
		res.fields = append(res.fields, casesv1alpha1.ResolvedField{ID: info.ID, Name: info.Name, Type: info.Type})
		if f.Value.ValueFrom != nil {
			if o := r.readValueFrom(ctx, client.ObjectKeyFromObject(obj), info, &f.Value, res); o != nil {
				return res, o, nil
			}
		}
		if o, err := r.checkValue(ctx, obj.Spec.DomainID, info, f.Value, obj.Spec.Fields[i].Value.ValueFrom); o != nil || err != nil {
			return res, o, err
		}
	}
	return res, nil, nil
}

// lookup finds the fields of a spec in the domain's catalog, by id and by
// name. With reread, a field not found makes the catalog read the domain
// again before it is called unknown: the catalog may be older than a rename
// or a new field.
func (r *CaseFieldUpdateReconciler) lookup(ctx context.Context, domainID string, fields []casesv1alpha1.CaseField, reread bool) (byID, byName map[string]cases.FieldInfo, err error) {
	var ids, names []string
	for _, f := range fields {
		if f.ID != "" {
			ids = append(ids, f.ID)
		} else {
			names = append(names, f.Name)
		}
	}
	catalog := r.catalogFor(ctx)
	byID, byName, err = catalog.Fields(ctx, domainID, ids, names)
	if reread && err == nil && (len(byID) < len(ids) || len(byName) < len(names)) {
		// Only what was not found is read again: an unknown id by itself, an
		// unknown name with the domain's list of fields.
		if len(byName) < len(names) {
			catalog.Invalidate(domainID)
		} else {
			for _, id := range ids {
				if _, ok := byID[id]; !ok {
					catalog.InvalidateField(domainID, id)
				}
			}
		}
		byID, byName, err = catalog.Fields(ctx, domainID, ids, names)
	}
	return byID, byName, err
}

// fieldInfo returns what the catalog knows of a spec's field.
func fieldInfo(f casesv1alpha1.CaseField, byID, byName map[string]cases.FieldInfo) (cases.FieldInfo, bool) {
	if f.ID != "" {
		info, ok := byID[f.ID]
		return info, ok
	}
	info, ok := byName[f.Name]
	return info, ok
}

// resolveWithoutCatalog handles --skip-field-checks: ids and literal values
// go as they are; names and valueFrom need the catalog.
func (r *CaseFieldUpdateReconciler) resolveWithoutCatalog(res *resolution) *Outcome {
	for _, f := range res.spec.Fields {
		if f.Name != "" {
			return &Outcome{Reason: casesv1alpha1.ValidationErrorReason, Retry: RetryNever,
				Message: fmt.Sprintf("Field %q is given by name, which needs the field catalog that --skip-field-checks turns off: give its id", f.Name)}
		}
		if f.Value.ValueFrom != nil {
			return &Outcome{Reason: casesv1alpha1.ValidationErrorReason, Retry: RetryNever,
				Message: fmt.Sprintf("Field %s takes its value from valueFrom, which needs the field's type from the field catalog that --skip-field-checks turns off", f.ID)}
		}
		res.fields = append(res.fields, casesv1alpha1.ResolvedField{ID: f.ID})
	}
	return nil
}

// readValueFrom replaces a valueFrom with the converted text of its key,
// read from the API server (the cache holds no Secret data). The reference
// is recorded once the Secret or ConfigMap is read, even if its value is then
// rejected, so that fixing it runs the object again. Messages name the
// Secret or ConfigMap and the key, never the value.
func (r *CaseFieldUpdateReconciler) readValueFrom(ctx context.Context, reader client.ObjectKey, info cases.FieldInfo, v *casesv1alpha1.FieldValue, res *resolution) *Outcome {
	kind, ref := "ConfigMap", v.ValueFrom.ConfigMapKeyRef
	if v.ValueFrom.SecretKeyRef != nil {
		kind, ref = "Secret", v.ValueFrom.SecretKeyRef
	}
	notFound := func(format string, args ...any) *Outcome {
		return &Outcome{Reason: casesv1alpha1.ReferenceNotFoundReason, Retry: RetryNever, Message: capitalise(fmt.Sprintf(format, args...))}
	}
	if !r.EnableValueFrom {
		return notFound("field %s takes its value from %s %s, but reading them is not enabled: start the manager with --enable-value-from", fieldLabel(info), kind, ref.Name)
	}
	if r.references != nil {
		// Before the read: a change made after it then always sends the
		// object back to the reconciler.
		r.references.addReader(newRefKey(refKinds[kind], reader.Namespace, ref.Name), reader.Name)
	}
	data, version, err := r.readData(ctx, kind, client.ObjectKey{Namespace: reader.Namespace, Name: ref.Name})
	if apierrors.IsNotFound(err) {
		return notFound("%s %s of field %s does not exist", kind, ref.Name, fieldLabel(info))
	}
	if err != nil {
		return &Outcome{Reason: casesv1alpha1.NetworkErrorReason, Retry: RetryBackoff, Message: capitalise(fmt.Sprintf("failed to read %s %s: %s", kind, ref.Name, innermost(err)))}
	}
	res.references = appendReference(res.references, casesv1alpha1.ValueReference{Kind: kind, Name: ref.Name, ResourceVersion: version})
	raw, ok := data[ref.Key]
	if !ok {
		return notFound("%s %s has no key %s for field %s", kind, ref.Name, ref.Key, fieldLabel(info))
	}
	if kind == "Secret" {
		res.secrets = append(res.secrets, secretForms(raw)...)
	}
	converted, err := convertValue(raw, info.Type)
	if err != nil {
		return &Outcome{Reason: casesv1alpha1.ValidationErrorReason, Retry: RetryNever,
			Message: capitalise(fmt.Sprintf("the value of key %s of %s %s for field %s %s", ref.Key, kind, ref.Name, fieldLabel(info), err))}
	}
	*v = converted
	return nil
}

// readData reads the data of a Secret or ConfigMap, and its resourceVersion.
func (r *CaseFieldUpdateReconciler) readData(ctx context.Context, kind string, key client.ObjectKey) (map[string]string, string, error) {
	reader := r.APIReader
	if reader == nil {
		reader = r.Client
	}
	// The REST client logs request and response bodies at high verbosity
	// through the context's logger: a read of a Secret must never reach
	// the logs.
	ctx = logr.NewContext(ctx, logr.Discard())
	if kind == "Secret" {
		s := &corev1.Secret{}
		if err := reader.Get(ctx, key, s); err != nil {
			return nil, "", err
		}
		data := make(map[string]string, len(s.Data))
		for k, b := range s.Data {
			data[k] = string(b)
		}
		return data, s.ResourceVersion, nil
	}
	cm := &corev1.ConfigMap{}
	if err := reader.Get(ctx, key, cm); err != nil {
		return nil, "", err
	}
	return cm.Data, cm.ResourceVersion, nil
}

// secretForms returns the forms in which a Secret's text may appear in a
// message: as written, trimmed, and as the number it converts to.
func secretForms(raw string) []string {
	forms := []string{raw}
	if t := strings.TrimSpace(raw); t != raw && t != "" {
		forms = append(forms, t)
	}
	if d, err := strconv.ParseFloat(strings.TrimSpace(raw), 64); err == nil {
		forms = append(forms, strconv.FormatFloat(d, 'f', -1, 64), strconv.FormatFloat(d, 'g', -1, 64))
	}
	return forms
}

// checkValue checks a concrete value against its field: the member must fit
// the type, and a SingleSelect value must be an active option.
func (r *CaseFieldUpdateReconciler) checkValue(ctx context.Context, domainID string, info cases.FieldInfo, v casesv1alpha1.FieldValue, from *casesv1alpha1.ValueSource) (*Outcome, error) {
	invalid := func(format string, args ...any) *Outcome {
		return &Outcome{Reason: casesv1alpha1.ValidationErrorReason, Retry: RetryNever, Message: capitalise(fmt.Sprintf(format, args...))}
	}
	if v.EmptyValue != nil {
		return nil, nil
	}
	if got, want := valueMember(v), expectedMember(info.Type); got != want {
		return invalid("field %s is a %s field: set %s, not %s", fieldLabel(info), info.Type, want, got), nil
	}
	if info.Type != fieldTypeSingleSelect {
		return nil, nil
	}
	options, err := r.catalogFor(ctx).ActiveOptions(ctx, domainID, info.ID)
	if err != nil {
		return readOutcome(err), rateLimited(err)
	}
	if slices.Contains(options, *v.StringValue) {
		return nil, nil
	}
	sorted := slices.Sorted(slices.Values(options))
	if from != nil {
		return invalid("field %s: the value from valueFrom is not an active option; allowed: %s", fieldLabel(info), strings.Join(sorted, ", ")), nil
	}
	return invalid("field %s: %q is not an active option; allowed: %s", fieldLabel(info), *v.StringValue, strings.Join(sorted, ", ")), nil
}

// unknownFieldOutcome reports a field missing from the domain: an unknown
// name is a ValidationError, an unknown id a ResourceNotFound (as the
// service answers UpdateCase for it).
func unknownFieldOutcome(domainID, id, name string) *Outcome {
	if id != "" {
		return &Outcome{Reason: casesv1alpha1.ResourceNotFoundReason, Retry: RetryStalled,
			Message: fmt.Sprintf("Field %s does not exist in domain %s", id, domainID)}
	}
	return &Outcome{Reason: casesv1alpha1.ValidationErrorReason, Retry: RetryNever,
		Message: fmt.Sprintf("No field is named %q in domain %s", name, domainID)}
}

// readOutcome classifies the failure of a catalog read.
func readOutcome(err error) *Outcome {
	if rateLimited(err) != nil {
		return nil
	}
	o := ClassifyUpdateError(err)
	return &o
}

// rateLimited turns the catalog's rate-limit error into errRateLimited.
func rateLimited(err error) error {
	var rl *cases.RateLimitedError
	if errors.As(err, &rl) {
		return errRateLimited{wait: rl.Wait}
	}
	return nil
}

// fieldLabel names a field for messages: "Priority (priority)".
func fieldLabel(info cases.FieldInfo) string {
	if info.Name == "" || info.Name == info.ID {
		return info.ID
	}
	return info.Name + " (" + info.ID + ")"
}

// resolvedLabel names a resolved field for messages.
func resolvedLabel(f casesv1alpha1.ResolvedField) string {
	return fieldLabel(cases.FieldInfo{ID: f.ID, Name: f.Name})
}

// appendReference adds a reference once.
func appendReference(refs []casesv1alpha1.ValueReference, ref casesv1alpha1.ValueReference) []casesv1alpha1.ValueReference {
	if slices.Contains(refs, ref) {
		return refs
	}
	return append(refs, ref)
}
