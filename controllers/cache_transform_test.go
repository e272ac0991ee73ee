package controllers

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"unsafe"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

// appliedObject is object i as the informer decodes it once applied: with
// managed fields, a label, four fields and their resolved status.
func appliedObject(i int) string {
	return fmt.Sprintf(`{"apiVersion":"cases.connectcases.dev/v1alpha1","kind":"CaseFieldUpdate",
"metadata":{"name":"obj-%[1]d","namespace":"team-a","uid":"uid-%[1]d","resourceVersion":"%[1]d","generation":1,
 "labels":{"app.kubernetes.io/part-of":"support"},
 "managedFields":[{"manager":"kubectl","operation":"Apply","apiVersion":"cases.connectcases.dev/v1alpha1"}]},
"spec":{"domainId":"domain-1","caseId":"case-%[1]d","syncPolicy":"ApplyOnce","connectionRef":{"name":"team-a"},
 "performedBy":{"userArn":"arn:aws:connect:us-east-1:111122223333:instance/i/agent/a"},
 "fields":[{"id":"priority","value":{"stringValue":"high"}},{"name":"Summary","value":{"valueFrom":{"secretKeyRef":{"name":"s-%[1]d","key":"summary"}}}}]},
"status":{"observedGeneration":1,"lastRequestId":"req-%[1]d",
 "conditions":[{"type":"Ready","status":"True","reason":"Applied","message":"Applied 2 fields","observedGeneration":1,"lastTransitionTime":"2026-01-02T03:04:05Z"}],
 "fields":[{"id":"priority","name":"Priority","type":"SingleSelect"},{"id":"summary","name":"Summary","type":"Text"}],
 "references":[{"kind":"Secret","name":"s-%[1]d","resourceVersion":"7"}]}}`, i)
}

func decode[T any](t *testing.T, data string) *T {
	t.Helper()
	out := new(T)
	NewWithT(t).Expect(json.Unmarshal([]byte(data), out)).To(Succeed())
	return out
}

// sameCopy reports whether two strings share their bytes.
func sameCopy(a, b string) bool {
	return unsafe.StringData(a) == unsafe.StringData(b)
}

func TestCacheTransformKeepsTheObject(t *testing.T) {
	g := NewWithT(t)
	got := decode[casesv1alpha1.CaseFieldUpdate](t, appliedObject(1))
	want := got.DeepCopy()
	want.ManagedFields = nil
	out, err := CacheTransform(got)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out).To(BeIdenticalTo(got))
	g.Expect(got).To(Equal(want), "only the managed fields go")
}

func TestCacheTransformSharesCommonStrings(t *testing.T) {
	a := decode[casesv1alpha1.CaseFieldUpdate](t, appliedObject(1))
	b := decode[casesv1alpha1.CaseFieldUpdate](t, appliedObject(2))
	for _, o := range []*casesv1alpha1.CaseFieldUpdate{a, b} {
		_, err := CacheTransform(o)
		NewWithT(t).Expect(err).NotTo(HaveOccurred())
	}
	shared := map[string]func(o *casesv1alpha1.CaseFieldUpdate) string{
		"apiVersion":  func(o *casesv1alpha1.CaseFieldUpdate) string { return o.APIVersion },
		"kind":        func(o *casesv1alpha1.CaseFieldUpdate) string { return o.Kind },
		"namespace":   func(o *casesv1alpha1.CaseFieldUpdate) string { return o.Namespace },
		"label value": func(o *casesv1alpha1.CaseFieldUpdate) string { return o.Labels["app.kubernetes.io/part-of"] },
		"domain":      func(o *casesv1alpha1.CaseFieldUpdate) string { return o.Spec.DomainID },
		"sync policy": func(o *casesv1alpha1.CaseFieldUpdate) string { return string(o.Spec.SyncPolicy) },
		"connection":  func(o *casesv1alpha1.CaseFieldUpdate) string { return o.Spec.ConnectionRef.Name },
		"user":        func(o *casesv1alpha1.CaseFieldUpdate) string { return *o.Spec.PerformedBy.UserArn },
		"field id":    func(o *casesv1alpha1.CaseFieldUpdate) string { return o.Spec.Fields[0].ID },
		"field name":  func(o *casesv1alpha1.CaseFieldUpdate) string { return o.Spec.Fields[1].Name },
		"reference key": func(o *casesv1alpha1.CaseFieldUpdate) string {
			return o.Spec.Fields[1].Value.ValueFrom.SecretKeyRef.Key
		},
		"condition type":            func(o *casesv1alpha1.CaseFieldUpdate) string { return o.Status.Conditions[0].Type },
		"condition status":          func(o *casesv1alpha1.CaseFieldUpdate) string { return string(o.Status.Conditions[0].Status) },
		"condition reason":          func(o *casesv1alpha1.CaseFieldUpdate) string { return o.Status.Conditions[0].Reason },
		"condition message":         func(o *casesv1alpha1.CaseFieldUpdate) string { return o.Status.Conditions[0].Message },
		"resolved field id":         func(o *casesv1alpha1.CaseFieldUpdate) string { return o.Status.Fields[1].ID },
		"resolved field name":       func(o *casesv1alpha1.CaseFieldUpdate) string { return o.Status.Fields[1].Name },
		"resolved field type":       func(o *casesv1alpha1.CaseFieldUpdate) string { return o.Status.Fields[1].Type },
		"reference kind":            func(o *casesv1alpha1.CaseFieldUpdate) string { return o.Status.References[0].Kind },
		"status field id (as spec)": func(o *casesv1alpha1.CaseFieldUpdate) string { return o.Status.Fields[0].ID },
	}
	for name, get := range shared {
		t.Run(name, func(t *testing.T) {
			NewWithT(t).Expect(sameCopy(get(a), get(b))).To(BeTrue(), "%q is one copy", get(a))
		})
	}
	// A field id in the spec and in the status is one copy too.
	NewWithT(t).Expect(sameCopy(a.Spec.Fields[0].ID, b.Status.Fields[0].ID)).To(BeTrue())
}

func TestCacheTransformMetadata(t *testing.T) {
	g := NewWithT(t)
	meta := func(name string) *metav1.PartialObjectMetadata {
		return decode[metav1.PartialObjectMetadata](t, `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"`+name+
			`","namespace":"team-a","managedFields":[{"manager":"kubectl"}]}}`)
	}
	a, b := meta("a"), meta("b")
	for _, o := range []*metav1.PartialObjectMetadata{a, b} {
		_, err := CacheTransform(o)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(o.ManagedFields).To(BeNil())
	}
	g.Expect(sameCopy(a.APIVersion, b.APIVersion) && sameCopy(a.Kind, b.Kind) && sameCopy(a.Namespace, b.Namespace)).To(BeTrue())
	g.Expect(a.Name).To(Equal("a"))

	// A tombstone passes as it is.
	tomb := toolscache.DeletedFinalStateUnknown{Key: "team-a/a", Obj: a}
	out, err := CacheTransform(tomb)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out).To(Equal(tomb))
}

func TestCacheTransformDropsLastApplied(t *testing.T) {
	g := NewWithT(t)
	lastApplied := `{"apiVersion":"v1","kind":"Secret","data":{"summary":"c2VjcmV0"}}`
	secret := decode[metav1.PartialObjectMetadata](t, `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s","namespace":"team-a",
"labels":{"team":"a"},"annotations":{"kubectl.kubernetes.io/last-applied-configuration":`+fmt.Sprintf("%q", lastApplied)+`,"note":"x"}}}`)
	_, err := CacheTransform(secret)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(secret.Annotations).To(BeNil(), "no annotation of a metadata-only object is kept: none holds data any more")
	g.Expect(secret.Labels).To(Equal(map[string]string{"team": "a"}), "labels stay: namespace selectors read them")

	obj := decode[casesv1alpha1.CaseFieldUpdate](t, appliedObject(1))
	obj.Annotations = map[string]string{
		"kubectl.kubernetes.io/last-applied-configuration": appliedObject(1),
		casesv1alpha1.PausedAnnotation:                     "true",
	}
	_, err = CacheTransform(obj)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(obj.Annotations).To(Equal(map[string]string{casesv1alpha1.PausedAnnotation: "true"}))
}

// TestCacheTransformSharesMapsAndFields checks that objects with the same
// labels, annotations and resolved fields share one copy of each, that
// different ones do not, and that the table of shared values stays bounded.
func TestCacheTransformSharesMapsAndFields(t *testing.T) {
	g := NewWithT(t)
	transformed := func(i int, labels map[string]string) *casesv1alpha1.CaseFieldUpdate {
		o := decode[casesv1alpha1.CaseFieldUpdate](t, appliedObject(i))
		o.Labels = labels
		o.Annotations = map[string]string{"meta.helm.sh/release-name": "support"}
		_, err := CacheTransform(o)
		g.Expect(err).NotTo(HaveOccurred())
		return o
	}
	mapPointer := func(m map[string]string) uintptr { return reflect.ValueOf(m).Pointer() }
	part := func(v string) map[string]string {
		return map[string]string{"app.kubernetes.io/part-of": v, "app.kubernetes.io/managed-by": "Helm"}
	}
	a, b, c := transformed(1, part("support")), transformed(2, part("support")), transformed(3, part("billing"))

	g.Expect(a.Labels).To(Equal(part("support")))
	g.Expect(mapPointer(a.Labels)).To(Equal(mapPointer(b.Labels)), "equal labels are one map")
	g.Expect(mapPointer(a.Labels)).NotTo(Equal(mapPointer(c.Labels)))
	g.Expect(c.Labels).To(Equal(part("billing")))
	g.Expect(mapPointer(a.Annotations)).To(Equal(mapPointer(c.Annotations)), "equal annotations are one map")
	g.Expect(&a.Status.Fields[0]).To(BeIdenticalTo(&c.Status.Fields[0]), "equal resolved fields are one slice")

	other := decode[casesv1alpha1.CaseFieldUpdate](t, appliedObject(4))
	other.Status.Fields[1].Type = "Number"
	_, err := CacheTransform(other)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(&other.Status.Fields[0]).NotTo(BeIdenticalTo(&a.Status.Fields[0]))
	g.Expect(other.Status.Fields[1].Type).To(Equal("Number"))

	// Ever new labels (a revision, say) keep the table within its bound;
	// objects keep the copies they were given.
	for i := range 3 * maxShared {
		transformed(i, map[string]string{"revision": fmt.Sprint(i)})
		sharedMaps.mu.Lock()
		n := len(sharedMaps.values)
		sharedMaps.mu.Unlock()
		g.Expect(n).To(BeNumerically("<=", maxShared))
	}
	g.Expect(a.Labels).To(Equal(part("support")))
}
