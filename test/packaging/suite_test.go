package packaging

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/testenv"
)

// Pinned tools: Helm 3 and Helm 4, and the Kubernetes version charts are
// rendered for.
const (
	helmModule   = "helm.sh/helm/v3/cmd/helm"
	helmVersion  = "v3.22.0"
	helm4Module  = "helm.sh/helm/v4/cmd/helm"
	helm4Version = "v4.3.1"
	kubeVersion  = "1.37.2"
)

// The suite's control plane, client and paths.
var (
	restConfig *rest.Config
	k8sClient  client.Client
	scheme     = runtime.NewScheme()
	repoRoot   string
	assetsDir  string
	// kubeconfig is an admin kubeconfig file of the control plane, for the
	// helm binaries.
	kubeconfig string
)

// Credentials of the emulator's principal in the tests that run the
// reconciler.
const (
	testRegion    = "us-east-1"
	testAccessKey = "AKIDPACKAGINGTEST"
	testSecretKey = "packaging-secret-access-key-3f9c2e71"
)

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(os.Stderr)))
	// The AWS default chain reads only what the tests set.
	testenv.IsolateAWS(testAccessKey, testSecretKey, testRegion)

	must(clientgoscheme.AddToScheme(scheme))
	must(casesv1alpha1.AddToScheme(scheme))
	var err error
	if repoRoot, err = testenv.RepoRoot(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if assetsDir, err = testenv.Assets(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assetsDir,
		CRDDirectoryPaths: []string{
			filepath.Join(repoRoot, "config", "crd", "bases"),
			filepath.Join("testdata", "crds"),
		},
		ErrorIfCRDPathMissing: true,
	}
	if restConfig, err = env.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "failed to start the local control plane:", err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	if k8sClient, err = client.New(restConfig, client.Options{Scheme: scheme}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir, err := os.MkdirTemp("", "packaging-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	if kubeconfig, err = writeKubeconfig(env, dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// run runs a command in the repository root and returns its standard
// output; the test fails with its standard error when it fails.
func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = repoRoot
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

// writeKubeconfig writes an admin kubeconfig of env into dir.
func writeKubeconfig(env *envtest.Environment, dir string) (string, error) {
	user, err := env.AddUser(envtest.User{Name: "packaging-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return "", fmt.Errorf("failed to add the admin user: %w", err)
	}
	data, err := user.KubeConfig()
	if err != nil {
		return "", fmt.Errorf("failed to write the kubeconfig: %w", err)
	}
	path := filepath.Join(dir, "kubeconfig")
	return path, os.WriteFile(path, data, 0o600)
}

// pinnedTool is a tool that hack/tool.sh builds once from the Go module
// proxy, looked up once per test process.
type pinnedTool struct {
	module, version string
	once            sync.Once
	path            string
	err             error
}

// get returns the path of the tool's binary.
func (p *pinnedTool) get(t *testing.T) string {
	t.Helper()
	p.once.Do(func() {
		cmd := exec.Command("bash", filepath.Join(repoRoot, "hack", "tool.sh"), p.module, p.version)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		p.path, p.err = strings.TrimSpace(string(out)), err
	})
	if p.err != nil {
		t.Fatalf("failed to install %s %s with hack/tool.sh: %v", p.module, p.version, p.err)
	}
	return p.path
}

var (
	helm3Tool = &pinnedTool{module: helmModule, version: helmVersion}
	helm4Tool = &pinnedTool{module: helm4Module, version: helm4Version}
)

// helm returns the path of the pinned Helm 3 binary.
func helm(t *testing.T) string {
	t.Helper()
	return helm3Tool.get(t)
}

// helm4 returns the path of the pinned Helm 4 binary.
func helm4(t *testing.T) string {
	t.Helper()
	return helm4Tool.get(t)
}

// ensureNamespace creates a namespace (for real: dry-run objects need it),
// with labels, unless it exists.
func ensureNamespace(t *testing.T, name string, labels map[string]string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	if err := k8sClient.Create(context.Background(), ns); err != nil && !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("failed to create namespace %s: %v", name, err)
	}
}
