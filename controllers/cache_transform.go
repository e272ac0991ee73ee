package controllers

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"unique"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

// CacheTransform prepares an object for the manager's cache, as its
// DefaultTransform. It drops the managed fields, which the operator never
// reads, and kubectl's last-applied-configuration annotation, a copy of the
// whole object as last applied; of objects cached as metadata only
// (Namespaces) it drops every annotation, since none is read, and kubectl's
// would hold a Secret's data were a Secret ever cached so. (The Secrets and
// ConfigMaps that valueFrom reads are not cached at all: see
// referenceWatch.) It also makes the strings that many objects hold alike
// share one copy:
// the JSON decoder allocates every string of every object it decodes, so
// 10,000 CaseFieldUpdates of one namespace and domain would otherwise hold
// 10,000 copies of the namespace, the domain id, each field id, each
// condition's type, status, reason and message, and so on. Strings that are
// each object's own (names, uids, case ids, values) are left as they are.
// Label and annotation maps, and the resolved fields of the status, that
// CaseFieldUpdates hold alike are shared too (see sharedTable).
// Nothing is removed from the spec or the status, nor any other annotation
// of the operator's own kinds: the reconciler compares against the cached
// object, and reads the pause and reconcile-request annotations.
//
// It runs on the informer's goroutine for every add and update; interning
// is a hash and a lookup per string, and the table that shares the copies
// holds them weakly (package unique), so values that no object holds any
// more are collected.
func CacheTransform(in any) (any, error) {
	obj, err := meta.Accessor(in)
	if err != nil {
		// A deleted object whose final state is unknown: nothing to do.
		return in, nil
	}
	// Nil-checked to avoid https://github.com/kubernetes/kubernetes/issues/124337.
	if obj.GetManagedFields() != nil {
		obj.SetManagedFields(nil)
	}
	switch o := in.(type) {
	case *casesv1alpha1.CaseFieldUpdate:
		delete(o.Annotations, corev1.LastAppliedConfigAnnotation)
		internMeta(&o.TypeMeta, &o.ObjectMeta)
		internSpec(&o.Spec)
		internStatus(&o.Status)
		o.Labels = sharedMaps.share(o.Labels)
		o.Annotations = sharedMaps.share(o.Annotations)
		o.Status.Fields = sharedFields.share(o.Status.Fields)
	case *metav1.PartialObjectMetadata:
		o.Annotations = nil
		internMeta(&o.TypeMeta, &o.ObjectMeta)
	case *casesv1alpha1.CasesConnection:
		delete(o.Annotations, corev1.LastAppliedConfigAnnotation)
		internMeta(&o.TypeMeta, &o.ObjectMeta)
	}
	return in, nil
}

// maxShared is how many distinct values a sharedTable holds before it
// starts over.
const maxShared = 1024

// The label and annotation maps, and the resolved fields, that objects
// hold alike. A map of one label costs about 370 bytes of heap, four
// resolved fields about 190: objects of one Helm release, Kustomization or
// Argo CD application carry the same labels, and objects of one template
// resolve the same fields.
var (
	sharedMaps = &sharedTable[map[string]string]{key: func(m map[string]string) string {
		var b strings.Builder
		for _, k := range slices.Sorted(maps.Keys(m)) {
			b.WriteString(k)
			b.WriteByte(0)
			b.WriteString(m[k])
			b.WriteByte(0)
		}
		return b.String()
	}}
	sharedFields = &sharedTable[[]casesv1alpha1.ResolvedField]{key: func(fields []casesv1alpha1.ResolvedField) string {
		var b strings.Builder
		for _, f := range fields {
			b.WriteString(f.ID)
			b.WriteByte(0)
			b.WriteString(f.Name)
			b.WriteByte(0)
			b.WriteString(f.Type)
			b.WriteByte(0)
		}
		return b.String()
	}}
)

// sharedTable hands out one copy of equal maps or slices to the objects
// of the cache. Sharing them is safe because nothing writes to a cached
// object: the cache's reader returns deep copies, and the event handlers
// only read. The table holds at most maxShared values and starts over when
// full, so that values that keep changing (a label with a revision, say)
// cost a bounded table and lose only the sharing, never correctness: an
// object keeps the copy it was given.
type sharedTable[T ~map[string]string | ~[]casesv1alpha1.ResolvedField] struct {
	key    func(T) string
	mu     sync.Mutex
	values map[string]T
}

// share returns the table's copy of v, which becomes that copy when the
// table has none. Empty values stay as they are.
func (t *sharedTable[T]) share(v T) T {
	if len(v) == 0 {
		return v
	}
	k := t.key(v)
	t.mu.Lock()
	defer t.mu.Unlock()
	if s, ok := t.values[k]; ok {
		return s
	}
	if t.values == nil || len(t.values) >= maxShared {
		t.values = make(map[string]T)
	}
	t.values[k] = v
	return v
}

// intern makes *s the shared copy of its value.
func intern(s *string) {
	if *s != "" {
		*s = unique.Make(*s).Value()
	}
}

// internMeta shares the apiVersion and kind (which metadata-only objects
// carry each), the namespace and the label values. Label keys stay:
// replacing them would mean a new map for every object.
func internMeta(t *metav1.TypeMeta, m *metav1.ObjectMeta) {
	intern(&t.APIVersion)
	intern(&t.Kind)
	intern(&m.Namespace)
	for k, v := range m.Labels {
		intern(&v)
		m.Labels[k] = v
	}
}

// internSpec shares the strings of a spec that objects commonly hold
// alike: the domain, the fields' ids and names, the keys and kinds of
// their references, the connection, the user.
func internSpec(s *casesv1alpha1.CaseFieldUpdateSpec) {
	intern(&s.DomainID)
	for i := range s.Fields {
		f := &s.Fields[i]
		intern(&f.ID)
		intern(&f.Name)
		if vf := f.Value.ValueFrom; vf != nil {
			for _, ref := range []*casesv1alpha1.KeyReference{vf.SecretKeyRef, vf.ConfigMapKeyRef} {
				if ref != nil {
					intern(&ref.Key)
				}
			}
		}
	}
	if s.ConnectionRef != nil {
		intern(&s.ConnectionRef.Name)
	}
	if p := s.PerformedBy; p != nil {
		for _, v := range []*string{p.UserArn, p.CustomEntity} {
			if v != nil {
				intern(v)
			}
		}
	}
	syncPolicy := string(s.SyncPolicy)
	intern(&syncPolicy)
	s.SyncPolicy = casesv1alpha1.SyncPolicy(syncPolicy)
}

// internStatus shares the conditions' type, status, reason and message,
// the resolved fields, and the kinds of the references.
func internStatus(s *casesv1alpha1.CaseFieldUpdateStatus) {
	for i := range s.Conditions {
		c := &s.Conditions[i]
		intern(&c.Type)
		status := string(c.Status)
		intern(&status)
		c.Status = metav1.ConditionStatus(status)
		intern(&c.Reason)
		intern(&c.Message)
	}
	for i := range s.Fields {
		f := &s.Fields[i]
		intern(&f.ID)
		intern(&f.Name)
		intern(&f.Type)
	}
	for i := range s.References {
		intern(&s.References[i].Kind)
	}
}
