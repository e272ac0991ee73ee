package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// OldestKubeVersion is the Kubernetes version of the oldest API server the
// operator supports and is tested against. The Makefile's OLDEST_KUBE_VERSION
// names the same version for make test.
const OldestKubeVersion = "1.32.13"

// OldestAssetsEnv names the environment variable that holds the directory of
// the oldest control plane's binaries; make test sets it.
const OldestAssetsEnv = "KUBEBUILDER_ASSETS_OLDEST"

// OldestAssets returns the directory of the control plane binaries of
// OldestKubeVersion: KUBEBUILDER_ASSETS_OLDEST when set, else the directory
// that hack/controlplane.sh builds (several minutes, once) or finds in the
// cache. An error, never a silent fallback to another version, when neither
// works: the tests of the oldest version must run.
func OldestAssets() (string, error) {
	if dir := os.Getenv(OldestAssetsEnv); dir != "" {
		return dir, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	cmd := exec.Command("bash", filepath.Join(root, "hack", "controlplane.sh"))
	cmd.Env = append(os.Environ(), "KUBE_VERSION="+OldestKubeVersion)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("failed to build the Kubernetes %s control plane with hack/controlplane.sh: %w", OldestKubeVersion, err)
	}
	return strings.TrimSpace(string(out)), nil
}
