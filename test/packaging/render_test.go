package packaging

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// The namespace the manifests install into.
const installNamespace = "connectcases-system"

// testImage is the manager image the renders set.
const testImage = "registry.example.com/connectcases-operator:v0.1.0"

// chartDir is the chart, relative to the repository root.
const chartDir = "charts/connectcases-operator"

// valuesAll turns every option of the chart on.
var valuesAll = filepath.Join("test", "packaging", "testdata", "values-all.yaml")

// kustomizeBuild builds a kustomization directory with hack/kustomize.sh,
// the script behind make build-installer, deploy and undeploy.
func kustomizeBuild(t *testing.T, dir string) []byte {
	t.Helper()
	return run(t, "bash", "hack/kustomize.sh", "set-image", testImage, dir)
}

// kustomizeWithPrometheus builds config/default with its [PROMETHEUS]
// section uncommented, as its comment tells users to, from a copy of
// config/.
func kustomizeWithPrometheus(t *testing.T) []byte {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "config")
	if err := os.CopyFS(dst, os.DirFS(filepath.Join(repoRoot, "config"))); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dst, "default", "kustomization.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(data), "#- ../prometheus", "- ../prometheus", 1)
	if edited == string(data) {
		t.Fatal("config/default/kustomization.yaml has no '#- ../prometheus' line to uncomment")
	}
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	return kustomizeBuild(t, filepath.Join(dst, "default"))
}

// helmTemplate renders the chart in installNamespace with extra helm
// arguments (-f FILE, --set K=V).
func helmTemplate(t *testing.T, args ...string) []byte {
	t.Helper()
	base := []string{"template", "connectcases-operator", chartDir, "--namespace", installNamespace, "--kube-version", kubeVersion}
	return run(t, helm(t), append(base, args...)...)
}

// decodeObjects splits a multi-document YAML stream into objects, skipping
// empty documents.
func decodeObjects(t *testing.T, data []byte) []*unstructured.Unstructured {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		err := dec.Decode(&u.Object)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("failed to decode the manifests: %v", err)
		}
		if len(u.Object) == 0 {
			continue
		}
		out = append(out, u)
	}
}

// kinds returns the kinds of objs, one entry per object.
func kinds(objs []*unstructured.Unstructured) []string {
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.GetKind())
	}
	return out
}

// findObject returns the first object of a kind, failing the test when
// there is none.
func findObject(t *testing.T, objs []*unstructured.Unstructured, kind string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind {
			return o
		}
	}
	t.Fatalf("no %s in the manifests (kinds %v)", kind, kinds(objs))
	return nil
}

// installs are the four ways to install the operator that the tests check.
func installs(t *testing.T) map[string][]*unstructured.Unstructured {
	t.Helper()
	return map[string][]*unstructured.Unstructured{
		"kustomize default":         decodeObjects(t, kustomizeBuild(t, "config/default")),
		"kustomize with prometheus": decodeObjects(t, kustomizeWithPrometheus(t)),
		"helm default values":       decodeObjects(t, helmTemplate(t)),
		"helm all options":          decodeObjects(t, helmTemplate(t, "-f", valuesAll)),
	}
}

// runErr runs a command in the repository root and returns its error, for
// commands that are expected to fail.
func runErr(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = repoRoot
	return cmd.CombinedOutput()
}

// managerContainer returns the manager container of a Deployment.
func managerContainer(t *testing.T, deploy *unstructured.Unstructured) map[string]interface{} {
	t.Helper()
	containers, _, _ := unstructured.NestedSlice(deploy.Object, "spec", "template", "spec", "containers")
	for _, c := range containers {
		if m, ok := c.(map[string]interface{}); ok && m["name"] == "manager" {
			return m
		}
	}
	t.Fatalf("Deployment %s has no manager container", deploy.GetName())
	return nil
}

// findPrefixed returns the first string of a list that starts with prefix.
func findPrefixed(list interface{}, prefix string) string {
	items, _ := list.([]interface{})
	for _, it := range items {
		if s, ok := it.(string); ok && strings.HasPrefix(s, prefix) {
			return s
		}
	}
	return ""
}

// mustAtoi parses a decimal number.
func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}
