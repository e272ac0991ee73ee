package packaging

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

// TestNamespaceUsersCannotWriteConnections checks every role of config/rbac
// that is aggregated into the built-in view, edit or admin roles: none
// grants anything on CasesConnections, so that only a cluster administrator
// decides who may use which credentials; and the connection viewer role
// only reads. (The manager's own role, bound to its ServiceAccount only,
// patches their status.)
func TestNamespaceUsersCannotWriteConnections(t *testing.T) {
	g := NewWithT(t)
	files, err := filepath.Glob(filepath.Join(repoRoot, "config", "rbac", "*.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	aggregated := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		g.Expect(err).NotTo(HaveOccurred())
		role := &rbacv1.ClusterRole{}
		if yaml.Unmarshal(data, role) != nil || role.Kind != "ClusterRole" {
			continue
		}
		name := filepath.Base(f)
		isAggregated := false
		for label := range role.Labels {
			if strings.HasPrefix(label, "rbac.authorization.k8s.io/aggregate-to-") {
				isAggregated = true
			}
		}
		for _, r := range role.Rules {
			for _, res := range r.Resources {
				if !strings.HasPrefix(res, "casesconnections") {
					continue
				}
				g.Expect(isAggregated).To(BeFalse(), "%s is aggregated into a built-in role and grants %s", name, res)
				if name == "casesconnection_viewer_role.yaml" {
					g.Expect(r.Verbs).To(ConsistOf("get", "list", "watch"), "%s grants more than reading %s", name, res)
				}
			}
		}
		if isAggregated {
			aggregated++
		}
	}
	g.Expect(aggregated).To(BeNumerically(">=", 2), "the editor and viewer roles of CaseFieldUpdates were read")
	viewer := readRules(t, "casesconnection_viewer_role.yaml")
	g.Expect(viewer).NotTo(BeEmpty())
}
