// Package testenv starts the local control plane (a real kube-apiserver and
// etcd, through controller-runtime's envtest) for the project's tests, with
// the CaseFieldUpdate CRD installed.
package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// RepoRoot returns the root of the repository, found from the working
// directory by looking for go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Assets returns the directory of the control plane binaries: the
// KUBEBUILDER_ASSETS environment variable when set (make test sets it), else
// the directory that hack/controlplane.sh builds or finds in the cache.
func Assets() (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	cmd := exec.Command("bash", filepath.Join(root, "hack", "controlplane.sh"))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("failed to build the local control plane with hack/controlplane.sh: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// Start starts a kube-apiserver and etcd with the project's CRDs installed.
// The caller stops the returned environment.
func Start() (*envtest.Environment, *rest.Config, error) {
	assets, err := Assets()
	if err != nil {
		return nil, nil, err
	}
	return StartWith(assets)
}

// StartWith is Start with the control plane binaries of the given
// directory, such as the one OldestAssets returns. The binaries' paths are
// set one by one: envtest would otherwise prefer KUBEBUILDER_ASSETS to the
// given directory.
func StartWith(assets string) (*envtest.Environment, *rest.Config, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, nil, err
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	env.ControlPlane.GetAPIServer().Path = filepath.Join(assets, "kube-apiserver")
	env.ControlPlane.Etcd = &envtest.Etcd{Path: filepath.Join(assets, "etcd")}
	env.ControlPlane.KubectlPath = filepath.Join(assets, "kubectl")
	cfg, err := env.Start()
	if err != nil {
		return nil, nil, fmt.Errorf("failed to start the local control plane: %w", err)
	}
	return env, cfg, nil
}
