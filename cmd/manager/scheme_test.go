package main

import (
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

// TestSchemeHoldsWhatTheManagerUses checks that the manager's scheme knows
// every kind its client, cache and watches handle, and no more than it needs.
func TestSchemeHoldsWhatTheManagerUses(t *testing.T) {
	scheme, err := newScheme()
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	tests := map[string]struct {
		obj  runtime.Object
		want bool
	}{
		"CaseFieldUpdate (reconciled, cached, listed)": {&casesv1alpha1.CaseFieldUpdateList{}, true},
		"CaseFieldUpdate":                                 {&casesv1alpha1.CaseFieldUpdate{}, true},
		"CasesConnection (reconciled, watched)":           {&casesv1alpha1.CasesConnection{}, true},
		"CasesConnectionList":                             {&casesv1alpha1.CasesConnectionList{}, true},
		"Secret (valueFrom, read from the API server)":    {&corev1.Secret{}, true},
		"ConfigMap (valueFrom, read from the API server)": {&corev1.ConfigMap{}, true},
		"Namespace (connections, watched as metadata)":    {&corev1.Namespace{}, true},
		"Deployment (not used)":                           {&appsv1.Deployment{}, false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, _, err := scheme.ObjectKinds(tt.obj)
			if tt.want {
				NewWithT(t).Expect(err).NotTo(HaveOccurred())
			} else {
				NewWithT(t).Expect(err).To(HaveOccurred())
			}
		})
	}
}
