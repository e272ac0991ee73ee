package packaging

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// TestInstallsAreAcceptedByTheAPIServer applies every object of each
// install with server-side dry-run: the API server validates each against
// its schema (the CRDs' too, including ServiceMonitor and PrometheusRule)
// and runs admission, without storing anything.
func TestInstallsAreAcceptedByTheAPIServer(t *testing.T) {
	ensureNamespace(t, installNamespace, nil)
	ensureNamespace(t, "argocd", nil)
	wantKinds := map[string][]string{
		"kustomize default": {"Namespace", "CustomResourceDefinition", "ServiceAccount", "ClusterRole", "ClusterRoleBinding",
			"Role", "RoleBinding", "Service", "Deployment"},
		"kustomize with prometheus": {"ServiceMonitor", "Deployment"},
		"helm default values":       {"CustomResourceDefinition", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Service", "Deployment"},
		"helm all options": {"CustomResourceDefinition", "ServiceMonitor", "PrometheusRule", "NetworkPolicy", "PodDisruptionBudget",
			"ConfigMap", "Deployment"},
	}
	for name, objs := range installs(t) {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			for _, k := range wantKinds[name] {
				g.Expect(kinds(objs)).To(ContainElement(k))
			}
			for _, obj := range objs {
				err := dryRunApply(obj)
				g.Expect(err).NotTo(HaveOccurred(), "%s %s/%s", obj.GetKind(), obj.GetNamespace(), obj.GetName())
			}
		})
	}
}

// dryRunApply applies obj with server-side apply in dry-run mode. Apply
// requests are always validated strictly: an unknown field is an error, as
// with kubectl apply --server-side.
func dryRunApply(obj *unstructured.Unstructured) error {
	return k8sClient.Apply(context.Background(), client.ApplyConfigurationFromUnstructured(obj.DeepCopy()), client.DryRunAll,
		client.FieldOwner("packaging-test"), client.ForceOwnership)
}

// TestDryRunRejectsAnInvalidObject shows that the dry-run above validates:
// a ServiceMonitor with an unknown scheme, a Deployment with a malformed
// resource quantity and one with an unknown field are refused.
func TestDryRunRejectsAnInvalidObject(t *testing.T) {
	g := NewWithT(t)
	ensureNamespace(t, installNamespace, nil)
	objs := decodeObjects(t, kustomizeWithPrometheus(t))

	monitor := findObject(t, objs, "ServiceMonitor").DeepCopy()
	g.Expect(unstructured.SetNestedSlice(monitor.Object, []interface{}{map[string]interface{}{"port": "metrics", "scheme": "gopher"}}, "spec", "endpoints")).To(Succeed())
	err := dryRunApply(monitor)
	g.Expect(err).To(MatchError(ContainSubstring("scheme")))

	deploy := findObject(t, objs, "Deployment").DeepCopy()
	containers, _, _ := unstructured.NestedSlice(deploy.Object, "spec", "template", "spec", "containers")
	containers[0].(map[string]interface{})["resources"] = map[string]interface{}{"limits": map[string]interface{}{"memory": "lots"}}
	g.Expect(unstructured.SetNestedSlice(deploy.Object, containers, "spec", "template", "spec", "containers")).To(Succeed())
	err = dryRunApply(deploy)
	g.Expect(err).To(HaveOccurred())

	unknown := findObject(t, objs, "Deployment").DeepCopy()
	g.Expect(unstructured.SetNestedField(unknown.Object, "yes", "spec", "template", "spec", "runFaster")).To(Succeed())
	g.Expect(dryRunApply(unknown)).To(MatchError(ContainSubstring("runFaster")))
}

// TestHelmLint runs helm lint --strict, with Helm 3 and Helm 4, with the
// default values and with every option on, lints the example chart of case
// updates, and shows that values.schema.json refuses a bad value.
func TestHelmLint(t *testing.T) {
	g := NewWithT(t)
	for _, bin := range []string{helm(t), helm4(t)} {
		out := run(t, bin, "lint", "--strict", chartDir)
		g.Expect(string(out)).To(ContainSubstring("0 chart(s) failed"))
		out = run(t, bin, "lint", "--strict", chartDir, "-f", valuesAll)
		g.Expect(string(out)).To(ContainSubstring("0 chart(s) failed"))
		out = run(t, bin, "lint", "--strict", exampleChart)
		g.Expect(string(out)).To(ContainSubstring("0 chart(s) failed"))
	}
	out, err := runErr(helm4(t), "template", "x", exampleChart, "--set-json",
		`updates=[{"name":"a","caseId":"c","fields":[{"id":"x","value":{"stringValue":"y"}}],"syncPolicy":"Sometimes"}]`)
	g.Expect(err).To(HaveOccurred(), "the example chart's schema refuses an unknown syncPolicy")
	g.Expect(string(out)).To(ContainSubstring("/updates/0/syncPolicy"))

	for _, bad := range []string{"manager.logEncoder=xml", "replicaCount=-1", "crds.install=maybe", "aws.region=Mars", "metrics.unknown=1"} {
		_, err := runErr(helm(t), "template", "x", chartDir, "--kube-version", kubeVersion, "--set", bad)
		g.Expect(err).To(HaveOccurred(), "--set %s should be refused by values.schema.json", bad)
	}
}

// TestChartFilesMatchConfig fails when the chart's copies of the CRD, the
// RBAC rules and the Argo CD health check and actions drift from config/,
// or when the chart holds a script config/ no longer has: run
// make helm-sync.
func TestChartFilesMatchConfig(t *testing.T) {
	pairs := map[string]string{
		"config/rbac/role.yaml":                 chartDir + "/files/rbac/role.yaml",
		"config/rbac/leader_election_role.yaml": chartDir + "/files/rbac/leader_election_role.yaml",
		"config/rbac/value-from/role.yaml":      chartDir + "/files/rbac/value_from_role.yaml",
	}
	var scripts, copiedScripts []string
	for dir, list := range map[string]*[]string{healthDir: &scripts, chartDir + "/files/argocd": &copiedScripts} {
		err := filepath.WalkDir(filepath.Join(repoRoot, dir), func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && filepath.Ext(path) == ".lua" {
				rel, _ := filepath.Rel(filepath.Join(repoRoot, dir), path)
				*list = append(*list, rel)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(scripts) < 1+len(actionNames)+1 {
		t.Fatalf("config/argocd holds %d Lua scripts: %v", len(scripts), scripts)
	}
	if len(copiedScripts) != len(scripts) {
		t.Errorf("the chart holds %d Argo CD scripts, config/argocd %d: run make helm-sync", len(copiedScripts), len(scripts))
	}
	for _, s := range scripts {
		pairs[filepath.Join(healthDir, s)] = filepath.Join(chartDir, "files", "argocd", s)
	}
	crds, err := filepath.Glob(filepath.Join(repoRoot, "config", "crd", "bases", "*.yaml"))
	if err != nil || len(crds) == 0 {
		t.Fatalf("no CRD in config/crd/bases: %v", err)
	}
	for _, c := range crds {
		pairs[filepath.Join("config", "crd", "bases", filepath.Base(c))] = filepath.Join(chartDir, "files", "crds", filepath.Base(c))
	}
	copies, _ := filepath.Glob(filepath.Join(repoRoot, chartDir, "files", "crds", "*.yaml"))
	if len(copies) != len(crds) {
		t.Errorf("the chart holds %d CRDs, config/crd/bases %d: run make helm-sync", len(copies), len(crds))
	}
	for src, dst := range pairs {
		want, err := os.ReadFile(filepath.Join(repoRoot, src))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(repoRoot, dst))
		if err != nil {
			t.Fatalf("%v: run make helm-sync", err)
		}
		if string(got) != string(want) {
			t.Errorf("%s differs from %s: run make helm-sync", dst, src)
		}
	}
}

// TestHelmCRDOptions checks that the chart renders the CRD as generated,
// kept on uninstall by default, and not at all when crds.install is off.
func TestHelmCRDOptions(t *testing.T) {
	g := NewWithT(t)
	data, err := os.ReadFile(filepath.Join(repoRoot, "config", "crd", "bases", "cases.connectcases.dev_casefieldupdates.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	generated := &unstructured.Unstructured{}
	g.Expect(yaml.Unmarshal(data, &generated.Object)).To(Succeed())

	crd := findObject(t, decodeObjects(t, helmTemplate(t)), "CustomResourceDefinition")
	g.Expect(crd.Object["spec"]).To(Equal(generated.Object["spec"]), "the chart's CRD spec is the generated one")
	g.Expect(crd.GetAnnotations()).To(HaveKeyWithValue("helm.sh/resource-policy", "keep"))

	crd = findObject(t, decodeObjects(t, helmTemplate(t, "--set", "crds.keep=false")), "CustomResourceDefinition")
	g.Expect(crd.GetAnnotations()).NotTo(HaveKey("helm.sh/resource-policy"))

	g.Expect(kinds(decodeObjects(t, helmTemplate(t, "--set", "crds.install=false")))).NotTo(ContainElement("CustomResourceDefinition"))
}

// TestHelmLeaderElection checks that more than one replica always elects a
// leader, and that one replica may run without.
func TestHelmLeaderElection(t *testing.T) {
	cases := map[string]struct {
		args       []string
		wantLeader bool
	}{
		"default":                     {wantLeader: true},
		"one replica, election off":   {args: []string{"--set", "leaderElection.enabled=false"}},
		"two replicas, election off":  {args: []string{"--set", "leaderElection.enabled=false", "--set", "replicaCount=2"}, wantLeader: true},
		"three replicas, election on": {args: []string{"--set", "replicaCount=3"}, wantLeader: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			objs := decodeObjects(t, helmTemplate(t, tc.args...))
			args := managerContainer(t, findObject(t, objs, "Deployment"))["args"]
			if tc.wantLeader {
				g.Expect(args).To(ContainElement("--leader-elect"))
				g.Expect(kinds(objs)).To(ContainElements("Role", "RoleBinding"))
			} else {
				g.Expect(args).NotTo(ContainElement("--leader-elect"))
				g.Expect(kinds(objs)).NotTo(ContainElement("Role"))
			}
		})
	}
}

// TestDeploymentsLogJSONAndProbeTheManager checks the manager's arguments
// and probes in every install: JSON logs, /healthz and /readyz on the
// probe port, resources set.
func TestDeploymentsLogJSONAndProbeTheManager(t *testing.T) {
	for name, objs := range installs(t) {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			c := managerContainer(t, findObject(t, objs, "Deployment"))
			g.Expect(c["args"]).To(ContainElement("--zap-encoder=json"))
			g.Expect(c["args"]).To(ContainElement(HavePrefix("--health-probe-bind-address=:")))
			probePort := strings.TrimPrefix(findPrefixed(c["args"], "--health-probe-bind-address=:"), "--health-probe-bind-address=:")
			g.Expect(c).To(HaveKeyWithValue("livenessProbe", HaveKeyWithValue("httpGet", HaveKeyWithValue("path", "/healthz"))))
			g.Expect(c).To(HaveKeyWithValue("readinessProbe", HaveKeyWithValue("httpGet", HaveKeyWithValue("path", "/readyz"))))
			g.Expect(c["ports"]).To(ContainElement(And(HaveKeyWithValue("name", "probes"), HaveKeyWithValue("containerPort", BeNumerically("==", mustAtoi(t, probePort))))))
			g.Expect(c).To(HaveKeyWithValue("resources", And(HaveKey("requests"), HaveKey("limits"))))
		})
	}
}
