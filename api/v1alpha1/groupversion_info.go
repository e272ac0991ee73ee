// Package v1alpha1 contains the v1alpha1 API of the cases.connectcases.dev
// group: the CaseFieldUpdate kind, which declares field values to set on an
// Amazon Connect Cases case.
//
// +kubebuilder:object:generate=true
// +groupName=cases.connectcases.dev
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of the objects in this package.
	GroupVersion = schema.GroupVersion{Group: "cases.connectcases.dev", Version: "v1alpha1"}

	// SchemeBuilder collects the functions that add this package's types to a
	// scheme. It starts with the group version's meta types (ListOptions,
	// DeleteOptions, ...); the file of each kind registers the kind and its
	// list in an init function, with SchemeBuilder.Register(knownTypes(...)).
	// It is apimachinery's builder, so that importing the API pulls in
	// nothing but apimachinery.
	SchemeBuilder = runtime.NewSchemeBuilder(addMetaTypes)

	// AddToScheme adds the types of this package to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// addMetaTypes adds the meta types that every group version serves
// (ListOptions, GetOptions, WatchEvent, ...) to s under GroupVersion.
func addMetaTypes(s *runtime.Scheme) error {
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}

// knownTypes returns a registration function, for SchemeBuilder.Register,
// that adds objs to a scheme under GroupVersion with the kinds of their Go
// type names.
func knownTypes(objs ...runtime.Object) func(*runtime.Scheme) error {
	return func(s *runtime.Scheme) error {
		s.AddKnownTypes(GroupVersion, objs...)
		return nil
	}
}
