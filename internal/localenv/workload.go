package localenv

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/emulator"
)

// The workload is what the benchmarks, the soak test and the leader election
// test apply: object i sets four fields of different types (SingleSelect,
// Boolean, Number, Text) on case WorkloadCaseID(i) of one domain, to values
// that differ from the seeded ones, so that the emulator's state shows
// whether each object was applied.
const (
	workloadTemplate = "workload-template"
	fieldPriority    = "priority"
	fieldEscalated   = "escalated"
	fieldScore       = "score"
	fieldSummary     = "summary"
)

// WorkloadCaseID returns the id of the case that object i updates.
func WorkloadCaseID(i int) string { return fmt.Sprintf("case-%05d", i) }

// WorkloadSeed returns an emulator seed with one domain holding n cases,
// WorkloadCaseID(0) to WorkloadCaseID(n-1), and the given principals.
func WorkloadSeed(domainID string, n int, principals ...emulator.Principal) *emulator.Seed {
	cases := make([]emulator.SeedCase, n)
	for i := range cases {
		cases[i] = emulator.SeedCase{ID: WorkloadCaseID(i), TemplateID: workloadTemplate, Fields: map[string]emulator.FieldValue{
			fieldSummary:   emulator.StringValue(fmt.Sprintf("Seeded case %d", i)),
			fieldPriority:  emulator.StringValue("low"),
			fieldEscalated: emulator.BooleanValue(false),
			fieldScore:     emulator.DoubleValue(0),
		}}
	}
	return &emulator.Seed{
		Principals: principals,
		Domains: []emulator.SeedDomain{{
			ID:   domainID,
			Name: "Workload domain " + domainID,
			Fields: []emulator.SeedField{
				{ID: fieldPriority, Name: "Priority", Type: emulator.FieldTypeSingleSelect, Options: []emulator.SeedOption{
					{Name: "High", Value: "high"}, {Name: "Medium", Value: "medium"}, {Name: "Low", Value: "low"}}},
				{ID: fieldEscalated, Name: "Escalated", Type: emulator.FieldTypeBoolean},
				{ID: fieldScore, Name: "Score", Type: emulator.FieldTypeNumber},
				{ID: fieldSummary, Name: "Summary", Type: emulator.FieldTypeText},
			},
			Templates: []emulator.SeedTemplate{{ID: workloadTemplate, Name: "Workload", RequiredFields: []string{fieldSummary}}},
			Cases:     cases,
		}},
	}
}

// WriteSeed writes seed as YAML to path, for the emulator's --seed flag.
func WriteSeed(path string, seed *emulator.Seed) error {
	data, err := yaml.Marshal(seed)
	if err != nil {
		return fmt.Errorf("failed to encode the seed: %w", err)
	}
	return os.WriteFile(path, data, 0o600)
}

// WorkloadValues returns the values that object i sets on its case.
func WorkloadValues(i int) map[string]emulator.FieldValue {
	return map[string]emulator.FieldValue{
		fieldPriority:  emulator.StringValue([]string{"high", "medium"}[i%2]),
		fieldEscalated: emulator.BooleanValue(true),
		fieldScore:     emulator.DoubleValue(float64(i) + 0.5),
		fieldSummary:   emulator.StringValue(fmt.Sprintf("Updated case %d", i)),
	}
}

// WorkloadObject returns object i of the workload: a CaseFieldUpdate named
// name in namespace that sets WorkloadValues(i) on WorkloadCaseID(i) of
// domainID.
func WorkloadObject(namespace, name, domainID string, i int, labels map[string]string) *casesv1alpha1.CaseFieldUpdate {
	values := WorkloadValues(i)
	fields := make([]casesv1alpha1.CaseField, 0, len(values))
	for _, id := range []string{fieldPriority, fieldEscalated, fieldScore, fieldSummary} {
		v := values[id]
		fields = append(fields, casesv1alpha1.CaseField{ID: id, Value: casesv1alpha1.FieldValue{
			StringValue: v.StringValue, BooleanValue: v.BooleanValue, DoubleValue: v.DoubleValue}})
	}
	return &casesv1alpha1.CaseFieldUpdate{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: labels},
		Spec:       casesv1alpha1.CaseFieldUpdateSpec{DomainID: domainID, CaseID: WorkloadCaseID(i), Fields: fields},
	}
}

// NewClient returns a client of the CaseFieldUpdate and core APIs that can
// watch and that has no client-side rate limit, like the manager's: a load
// generator held to client-go's default 5 requests a second would measure
// itself.
func NewClient(cfg *rest.Config) (client.WithWatch, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = -1, -1
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := casesv1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	return client.NewWithWatch(cfg, client.Options{Scheme: scheme})
}

// CreateAll creates objs with the given number of concurrent workers, and
// calls created (from any worker) with each object as returned by the API
// server and the time its create call returned. It stops at the first error.
func CreateAll[T client.Object](ctx context.Context, c client.Client, objs []T, workers int,
	created func(obj T, at time.Time)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan T)
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	for range max(1, workers) {
		wg.Go(func() {
			for obj := range next {
				if err := c.Create(ctx, obj); err != nil {
					once.Do(func() {
						firstErr = fmt.Errorf("failed to create %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
						cancel()
					})
					continue
				}
				if created != nil {
					created(obj, time.Now())
				}
			}
		})
	}
feed:
	for _, obj := range objs {
		select {
		case next <- obj:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

// EnsureNamespace creates the namespace name unless it exists.
func EnsureNamespace(ctx context.Context, c client.Client, name string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := c.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("failed to create namespace %q: %w", name, err)
	}
	return nil
}

// WorkloadResolvedFields returns the status.fields that the manager records
// for a workload object: its four fields with the names and types of the
// workload seed's catalog, in the order of the spec.
func WorkloadResolvedFields() []casesv1alpha1.ResolvedField {
	return []casesv1alpha1.ResolvedField{
		{ID: fieldPriority, Name: "Priority", Type: string(emulator.FieldTypeSingleSelect)},
		{ID: fieldEscalated, Name: "Escalated", Type: string(emulator.FieldTypeBoolean)},
		{ID: fieldScore, Name: "Score", Type: string(emulator.FieldTypeNumber)},
		{ID: fieldSummary, Name: "Summary", Type: string(emulator.FieldTypeText)},
	}
}

// WorkloadSources returns the Secret and the ConfigMap that object i of a
// valueFrom workload reads (see WorkloadObjectFromSources), both named name
// in namespace: the Secret holds its summary, the ConfigMap its priority.
func WorkloadSources(namespace, name string, i int) (*corev1.Secret, *corev1.ConfigMap) {
	values := WorkloadValues(i)
	meta := metav1.ObjectMeta{Namespace: namespace, Name: name}
	return &corev1.Secret{ObjectMeta: meta, StringData: map[string]string{fieldSummary: *values[fieldSummary].StringValue}},
		&corev1.ConfigMap{ObjectMeta: meta, Data: map[string]string{fieldPriority: *values[fieldPriority].StringValue}}
}

// WorkloadObjectFromSources is WorkloadObject with its summary read from
// the Secret and its priority from the ConfigMap of WorkloadSources, both
// named name: the same values, through valueFrom.
func WorkloadObjectFromSources(namespace, name, domainID string, i int, labels map[string]string) *casesv1alpha1.CaseFieldUpdate {
	obj := WorkloadObject(namespace, name, domainID, i, labels)
	for j := range obj.Spec.Fields {
		f := &obj.Spec.Fields[j]
		switch f.ID {
		case fieldSummary:
			f.Value = casesv1alpha1.FieldValue{ValueFrom: &casesv1alpha1.ValueSource{SecretKeyRef: &casesv1alpha1.KeyReference{Name: name, Key: fieldSummary}}}
		case fieldPriority:
			f.Value = casesv1alpha1.FieldValue{ValueFrom: &casesv1alpha1.ValueSource{ConfigMapKeyRef: &casesv1alpha1.KeyReference{Name: name, Key: fieldPriority}}}
		}
	}
	return obj
}

// WorkloadMismatches compares the cases of a workload's domain, as the
// emulator holds them, with what objects 0 to n-1 set, and describes each
// case whose value of a workload field differs; none when every object was
// applied.
func WorkloadMismatches(cases map[string]map[string]emulator.FieldValue, n int) []string {
	var out []string
	for i := range n {
		id := WorkloadCaseID(i)
		got, ok := cases[id]
		if !ok {
			out = append(out, fmt.Sprintf("case %s is missing", id))
			continue
		}
		for field, want := range WorkloadValues(i) {
			if !reflect.DeepEqual(got[field], want) {
				out = append(out, fmt.Sprintf("case %s field %s is %s, want %s", id, field, describeValue(got[field]), describeValue(want)))
			}
		}
	}
	return out
}

// describeValue formats a field value for a mismatch message.
func describeValue(v emulator.FieldValue) string {
	switch {
	case v.StringValue != nil:
		return fmt.Sprintf("%q", *v.StringValue)
	case v.DoubleValue != nil:
		return fmt.Sprint(*v.DoubleValue)
	case v.BooleanValue != nil:
		return fmt.Sprint(*v.BooleanValue)
	case v.UserArnValue != nil:
		return fmt.Sprintf("user %q", *v.UserArnValue)
	case v.Empty:
		return "empty"
	default:
		return "unset"
	}
}
