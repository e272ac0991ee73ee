package v1alpha1_test

import (
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

// TestAddToScheme checks that AddToScheme registers each kind and its list
// under the group version, with the meta types a client needs to list and
// watch them there.
func TestAddToScheme(t *testing.T) {
	scheme := runtime.NewScheme()
	NewWithT(t).Expect(casesv1alpha1.AddToScheme(scheme)).To(Succeed())

	tests := map[string]struct {
		obj  runtime.Object
		kind string
	}{
		"the kind":          {obj: &casesv1alpha1.CaseFieldUpdate{}, kind: "CaseFieldUpdate"},
		"its list":          {obj: &casesv1alpha1.CaseFieldUpdateList{}, kind: "CaseFieldUpdateList"},
		"list options":      {obj: &metav1.ListOptions{}, kind: "ListOptions"},
		"the watch event":   {obj: &metav1.WatchEvent{}, kind: "WatchEvent"},
		"the delete option": {obj: &metav1.DeleteOptions{}, kind: "DeleteOptions"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(scheme.Recognizes(casesv1alpha1.GroupVersion.WithKind(tt.kind))).To(BeTrue())
			gvks, _, err := scheme.ObjectKinds(tt.obj)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(gvks).To(ContainElement(casesv1alpha1.GroupVersion.WithKind(tt.kind)))
		})
	}
}
