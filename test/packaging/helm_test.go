package packaging

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// helmRun runs a helm binary in the repository root against the suite's
// control plane, with cache, configuration and data directories of the
// test's own, and returns its combined output.
func helmRun(t *testing.T, bin string, args ...string) (string, error) {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(bin, args...)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig,
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// mustHelm runs helmRun and fails the test when helm fails.
func mustHelm(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := helmRun(t, bin, args...)
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// helmRelease is what helm status -o json says of a release.
type helmRelease struct {
	Version int `json:"version"`
	Info    struct {
		Status string `json:"status"`
	} `json:"info"`
}

// releaseStatus returns a release's revision and status.
func releaseStatus(t *testing.T, bin, release, namespace string) helmRelease {
	t.Helper()
	var rel helmRelease
	out := mustHelm(t, bin, "status", release, "-n", namespace, "-o", "json")
	if err := json.Unmarshal([]byte(out), &rel); err != nil {
		t.Fatalf("helm status: %v\n%s", err, out)
	}
	return rel
}

// TestHelmInstallsAndUpgradesTheOperator installs the operator's chart on
// the control plane with its default values and upgrades it to every
// option on, with Helm 3, with Helm 4 (server-side apply), and installed by
// Helm 3 then upgraded by Helm 4, and uninstalls it: the CRD stays. The
// CRD exists before (the suite installs it), so the install takes it over
// with --take-ownership, as on a cluster where it was applied by hand.
func TestHelmInstallsAndUpgradesTheOperator(t *testing.T) {
	ensureNamespace(t, "argocd", nil)
	ensureNamespace(t, "monitoring", nil)
	cases := map[string]struct {
		release          string
		install, upgrade func(*testing.T) string
	}{
		"helm 3": {release: "op-helm3", install: helm, upgrade: helm},
		"helm 4": {release: "op-helm4", install: helm4, upgrade: helm4},
		"installed by helm 3, upgraded by helm 4": {release: "op-helm3to4", install: helm, upgrade: helm4},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			ctx := context.Background()
			ns := tc.release
			ensureNamespace(t, ns, nil)
			fullname := tc.release + "-connectcases-operator"

			mustHelm(t, tc.install(t), "install", tc.release, chartDir, "-n", ns, "--take-ownership", "--set", "aws.region=us-east-1")
			rel := releaseStatus(t, tc.upgrade(t), tc.release, ns)
			g.Expect(rel.Version).To(Equal(1))
			g.Expect(rel.Info.Status).To(Equal("deployed"))
			deploy := &appsv1.Deployment{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: fullname}, deploy)).To(Succeed())
			g.Expect(*deploy.Spec.Replicas).To(BeEquivalentTo(1))
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: fullname + "-manager"}, &rbacv1.ClusterRole{})).To(Succeed())
			crd := &unstructured.Unstructured{}
			crd.SetAPIVersion("apiextensions.k8s.io/v1")
			crd.SetKind("CustomResourceDefinition")
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "casefieldupdates.cases.connectcases.dev"}, crd)).To(Succeed())
			g.Expect(crd.GetAnnotations()).To(HaveKeyWithValue("meta.helm.sh/release-name", tc.release))

			mustHelm(t, tc.upgrade(t), "upgrade", tc.release, chartDir, "-n", ns, "-f", valuesAll)
			rel = releaseStatus(t, tc.upgrade(t), tc.release, ns)
			g.Expect(rel.Version).To(Equal(2))
			g.Expect(rel.Info.Status).To(Equal("deployed"))
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: fullname}, deploy)).To(Succeed())
			g.Expect(*deploy.Spec.Replicas).To(BeEquivalentTo(2))
			g.Expect(deploy.Spec.Template.Spec.Containers[0].Args).To(ContainElements(
				"--leader-election-id=connectcases-shard-all", "--watch-namespaces=cases-a,cases-b", "--label-selector=shard in (a,b)"))
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: "argocd", Name: fullname + "-argocd"}, &corev1.ConfigMap{})).To(Succeed())
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: "monitoring", Name: fullname + "-dashboard"}, &corev1.ConfigMap{})).To(Succeed())

			mustHelm(t, tc.upgrade(t), "uninstall", tc.release, "-n", ns)
			g.Eventually(func() bool {
				return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: fullname}, &appsv1.Deployment{}))
			}, timeout, interval).Should(BeTrue())
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "casefieldupdates.cases.connectcases.dev"}, crd)).To(Succeed(),
				"helm.sh/resource-policy: keep leaves the CRD")
		})
	}
}
