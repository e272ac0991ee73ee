package main

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

// newScheme returns the kinds that the manager's client and cache handle:
// the operator's own, and core/v1 for the Secrets and ConfigMaps that
// valueFrom reads and the Namespaces whose labels connections admit. The
// other API groups of client-go's scheme are kinds the manager never
// handles (about 140 KiB of heap that a second copy of them would hold:
// client-go's own scheme, which its clientsets use, has them all). The
// Events recorder and leader election send through such clientsets; an
// Event's subject is a CaseFieldUpdate, and leader election names its
// Lease's kind itself.
func newScheme() (*runtime.Scheme, error) {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, casesv1alpha1.AddToScheme} {
		if err := add(scheme); err != nil {
			return nil, err
		}
	}
	return scheme, nil
}
