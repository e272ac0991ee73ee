package packaging

import (
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The argocd-cm keys of CaseFieldUpdate's health check and actions.
const (
	argoHealthKey  = "resource.customizations.health.cases.connectcases.dev_CaseFieldUpdate"
	argoActionsKey = "resource.customizations.actions.cases.connectcases.dev_CaseFieldUpdate"
)

// TestHelmArgoCDCustomizations renders the chart's ConfigMap of argocd-cm
// keys with each combination of argocd.healthCheck and argocd.actions: it
// holds exactly the keys turned on, the health check as in config/argocd,
// and the actions in Argo CD's format with the scripts of config/argocd.
// The keys are the ones docs/gitops.md tells users to set.
func TestHelmArgoCDCustomizations(t *testing.T) {
	docs, err := os.ReadFile(filepath.Join(repoRoot, "docs", "gitops.md"))
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	health, err := os.ReadFile(filepath.Join(repoRoot, healthLuaPath))
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	cases := map[string]struct {
		args          []string
		wantKeys      []string
		wantNamespace string
	}{
		"default":      {},
		"health check": {args: []string{"--set", "argocd.healthCheck.enabled=true"}, wantKeys: []string{argoHealthKey}, wantNamespace: "argocd"},
		"actions":      {args: []string{"--set", "argocd.actions.enabled=true"}, wantKeys: []string{argoActionsKey}, wantNamespace: "argocd"},
		"both, in another namespace": {
			args:     []string{"--set", "argocd.healthCheck.enabled=true", "--set", "argocd.actions.enabled=true", "--set", "argocd.namespace=gitops"},
			wantKeys: []string{argoHealthKey, argoActionsKey}, wantNamespace: "gitops",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			var cm *unstructured.Unstructured
			for _, o := range decodeObjects(t, helmTemplate(t, tc.args...)) {
				if o.GetKind() == "ConfigMap" && o.GetName() == "connectcases-operator-argocd" {
					cm = o
				}
			}
			if tc.wantKeys == nil {
				g.Expect(cm).To(BeNil())
				return
			}
			g.Expect(cm).NotTo(BeNil())
			g.Expect(cm.GetNamespace()).To(Equal(tc.wantNamespace))
			data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
			keys := make([]string, 0, len(data))
			for k := range data {
				keys = append(keys, k)
				g.Expect(string(docs)).To(ContainSubstring(k), "docs/gitops.md names the key")
			}
			g.Expect(keys).To(ConsistOf(tc.wantKeys))
			if _, ok := data[argoHealthKey]; ok {
				g.Expect(data[argoHealthKey]).To(Equal(string(health)))
			}
			if _, ok := data[argoActionsKey]; ok {
				got, want := argoActionsFromChart(t, cm), configActions(t)
				g.Expect(got.discovery).To(Equal(want.discovery))
				g.Expect(got.actions).To(Equal(want.actions))
			}
		})
	}
}
