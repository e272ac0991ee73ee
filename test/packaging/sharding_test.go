package packaging

import (
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
)

// TestShardingExampleReleases renders the two releases of
// examples/sharding side by side in one namespace and dry-runs every object
// of both on the API server: no object is rendered twice (names, Leases,
// roles, Services), the CRDs by one release only, and the label selectors
// split the CaseFieldUpdates, labelled or not, between the shards with no
// overlap.
func TestShardingExampleReleases(t *testing.T) {
	g := NewWithT(t)
	ensureNamespace(t, installNamespace, nil)
	releases := map[string]string{
		"cases-shard-a": filepath.Join("examples", "sharding", "values-shard-a.yaml"),
		"cases-shard-b": filepath.Join("examples", "sharding", "values-shard-b.yaml"),
	}
	seen := map[string]string{}
	leases := map[string]string{}
	selectors := map[string]labels.Selector{}
	crdReleases := map[string]bool{}
	for release, values := range releases {
		out := run(t, helm(t), "template", release, chartDir, "--namespace", installNamespace, "--kube-version", kubeVersion, "-f", values)
		for _, obj := range decodeObjects(t, out) {
			key := objectKey(obj)
			g.Expect(seen).NotTo(HaveKey(key), "%s is rendered by %s and %s", key, seen[key], release)
			seen[key] = release
			g.Expect(dryRunApply(obj)).To(Succeed(), "%s of %s", key, release)
			switch obj.GetKind() {
			case "CustomResourceDefinition":
				crdReleases[release] = true
			case "Deployment":
				args := managerContainer(t, obj)["args"]
				g.Expect(args).To(ContainElement("--leader-elect"))
				id := strings.TrimPrefix(findPrefixed(args, "--leader-election-id="), "--leader-election-id=")
				g.Expect(id).NotTo(BeEmpty())
				g.Expect(leases).NotTo(HaveKey(id), "both shards elect with Lease %s", id)
				leases[id] = release
				selector := strings.TrimPrefix(findPrefixed(args, "--label-selector="), "--label-selector=")
				sel, err := labels.Parse(selector)
				g.Expect(err).NotTo(HaveOccurred(), "the manager refuses --label-selector=%s", selector)
				selectors[release] = sel
			}
		}
	}
	g.Expect(crdReleases).To(Equal(map[string]bool{"cases-shard-a": true}), "one release installs the CRDs")
	g.Expect(leases).To(HaveLen(2))
	g.Expect(selectors).To(HaveLen(2))
	for _, objLabels := range []labels.Set{{"shard": "a"}, {"shard": "b"}, {"shard": "c"}, {}, {"team": "support"}} {
		var owners []string
		for release, sel := range selectors {
			if sel.Matches(objLabels) {
				owners = append(owners, release)
			}
		}
		g.Expect(owners).To(HaveLen(1), "a CaseFieldUpdate labelled %v is reconciled by %v", objLabels, owners)
	}
}

// TestHelmShardingValues checks the manager's flags for the sharding
// values: none by default, the namespaces, the selector and the Lease name
// when set.
func TestHelmShardingValues(t *testing.T) {
	cases := map[string]struct {
		args     []string
		want     []string
		wantNone []string
	}{
		"default": {
			want:     []string{"--leader-election-id=connectcases-operator"},
			wantNone: []string{"--watch-namespaces=", "--label-selector="},
		},
		"namespaces, selector and lease": {
			args: []string{"--set", "manager.watchNamespaces={team-a,team-b}", "--set", "manager.labelSelector=shard in (a)",
				"--set", "leaderElection.id=cases-a"},
			want: []string{"--watch-namespaces=team-a,team-b", "--label-selector=shard in (a)", "--leader-election-id=cases-a"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			args := managerContainer(t, findObject(t, decodeObjects(t, helmTemplate(t, tc.args...)), "Deployment"))["args"]
			g.Expect(args).To(ContainElements(tc.want))
			for _, prefix := range tc.wantNone {
				g.Expect(findPrefixed(args, prefix)).To(BeEmpty())
			}
		})
	}
	for _, bad := range []string{"manager.watchNamespaces={Team_A}", "leaderElection.id=Not A Name"} {
		_, err := runErr(helm(t), "template", "x", chartDir, "--kube-version", kubeVersion, "--set", bad)
		NewWithT(t).Expect(err).To(HaveOccurred(), "--set %s should be refused by values.schema.json", bad)
	}
}

// objectKey names an object for messages.
func objectKey(obj *unstructured.Unstructured) string {
	return obj.GetKind() + "/" + obj.GetNamespace() + "/" + obj.GetName()
}
