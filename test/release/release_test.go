// Package release tests hack/release.sh, the script behind make release: it
// builds a release for a dry version into a temporary directory and checks
// every artefact as a user who downloads them would.
package release

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/buildinfo"
	"debug/elf"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/connectcases-operator/connectcases-operator/internal/testenv"
)

// dryVersion is a pre-release that no real release uses.
const dryVersion = "0.0.0-test.1"

// imageRepository is the manager image of a release, as the chart's values
// name it.
const imageRepository = "ghcr.io/connectcases-operator/connectcases-operator"

// managerPackage is the import path the binaries are built from.
const managerPackage = "github.com/connectcases-operator/connectcases-operator/cmd/manager"

// TestRelease runs hack/release.sh for dryVersion and checks each artefact:
// the checksums, the binaries, the chart and the installer.
func TestRelease(t *testing.T) {
	g := NewWithT(t)
	root := repoRoot(t)
	out := t.TempDir()
	start := time.Now()
	output, err := releaseCmd(root, dryVersion, out).CombinedOutput()
	g.Expect(err).NotTo(HaveOccurred(), string(output))
	t.Logf("hack/release.sh %s took %s", dryVersion, time.Since(start).Round(time.Second))

	binaries := map[string]elf.Machine{
		"manager-" + dryVersion + "-linux-amd64": elf.EM_X86_64,
		"manager-" + dryVersion + "-linux-arm64": elf.EM_AARCH64,
	}
	chart := "connectcases-operator-" + dryVersion + ".tgz"
	want := []string{"SHA256SUMS", chart, "install.yaml"}
	for name := range binaries {
		want = append(want, name)
	}
	entries, err := os.ReadDir(out)
	g.Expect(err).NotTo(HaveOccurred())
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	g.Expect(got).To(ConsistOf(want), "the release holds exactly its artefacts, no staging left over")

	t.Run("checksums", func(t *testing.T) {
		sums := readChecksums(t, filepath.Join(out, "SHA256SUMS"))
		g := NewWithT(t)
		g.Expect(sums).To(HaveLen(len(want)-1), "every artefact but SHA256SUMS itself is listed")
		for name, sum := range sums {
			data, err := os.ReadFile(filepath.Join(out, name))
			g.Expect(err).NotTo(HaveOccurred())
			actual := sha256.Sum256(data)
			g.Expect(hex.EncodeToString(actual[:])).To(Equal(sum), name)
		}
	})

	for name, machine := range binaries {
		t.Run(name, func(t *testing.T) {
			checkBinary(t, filepath.Join(out, name), machine)
		})
	}

	t.Run("chart", func(t *testing.T) {
		g := NewWithT(t)
		meta := chartMetadata(t, filepath.Join(out, chart))
		g.Expect(meta).To(HaveKeyWithValue("name", "connectcases-operator"))
		g.Expect(meta).To(HaveKeyWithValue("version", dryVersion))
		g.Expect(meta).To(HaveKeyWithValue("appVersion", dryVersion), "the chart's default image tag is its appVersion")
	})

	t.Run("installer", func(t *testing.T) {
		g := NewWithT(t)
		objs := decodeObjects(t, filepath.Join(out, "install.yaml"))
		kinds := map[string]int{}
		var crds []string
		var deploy *appsv1.Deployment
		for _, o := range objs {
			kinds[o.GetKind()]++
			switch o.GetKind() {
			case "CustomResourceDefinition":
				crds = append(crds, o.GetName())
			case "Deployment":
				deploy = &appsv1.Deployment{}
				g.Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, deploy)).To(Succeed())
			}
		}
		g.Expect(crds).To(ConsistOf(generatedCRDs(t, root)), "every CRD that make manifests generates, since the manager watches each kind")
		g.Expect(kinds).To(HaveKeyWithValue("Deployment", 1))
		g.Expect(deploy).NotTo(BeNil())
		var images []string
		for _, c := range deploy.Spec.Template.Spec.Containers {
			images = append(images, c.Image)
		}
		g.Expect(images).To(Equal([]string{imageRepository + ":" + dryVersion}))
	})
}

// TestReleaseRefusesVersions checks that a version that is not SemVer, or
// that an image tag cannot hold, is refused before anything is built.
func TestReleaseRefusesVersions(t *testing.T) {
	root := repoRoot(t)
	tests := map[string]string{
		"empty":                        "",
		"leading v":                    "v1.2.3",
		"two components":               "1.2",
		"four components":              "1.2.3.4",
		"leading zero":                 "01.2.3",
		"numeric pre-release with a 0": "1.2.3-01",
		"empty pre-release":            "1.2.3-",
		"empty identifier":             "1.2.3-rc..1",
		"build metadata":               "1.2.3+build.5",
		"a word":                       "latest",
		"a space":                      "1.2.3 ",
	}
	for name, version := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			out := t.TempDir()
			output, err := releaseCmd(root, version, out).CombinedOutput()
			var exit *exec.ExitError
			g.Expect(errors.As(err, &exit)).To(BeTrue(), "refused: %s", output)
			g.Expect(exit.ExitCode()).To(Equal(2))
			g.Expect(string(output)).To(ContainSubstring("release: VERSION"))
			entries, err := os.ReadDir(out)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(entries).To(BeEmpty(), "nothing is written for a refused version")
		})
	}
}

// TestChartVersionIsAppVersion checks the chart in the tree: its version is
// SemVer and equal to its appVersion, so that the chart and the image it
// installs by default are one release.
func TestChartVersionIsAppVersion(t *testing.T) {
	g := NewWithT(t)
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "charts", "connectcases-operator", "Chart.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	meta := map[string]any{}
	g.Expect(yaml.Unmarshal(data, &meta)).To(Succeed())
	g.Expect(meta["version"]).To(MatchRegexp(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?$`))
	g.Expect(meta["appVersion"]).To(Equal(meta["version"]))
}

// repoRoot returns the repository root.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// releaseCmd is hack/release.sh for version into out, run from root.
func releaseCmd(root, version, out string) *exec.Cmd {
	cmd := exec.Command("bash", filepath.Join(root, "hack", "release.sh"), version, out)
	cmd.Dir = root
	return cmd
}

// generatedCRDs returns the names of the CRDs in config/crd/bases, which
// make manifests generates from api/.
func generatedCRDs(t *testing.T, root string) []string {
	t.Helper()
	g := NewWithT(t)
	files, err := filepath.Glob(filepath.Join(root, "config", "crd", "bases", "*.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(files).NotTo(BeEmpty())
	var names []string
	for _, f := range files {
		for _, o := range decodeObjects(t, f) {
			names = append(names, o.GetName())
		}
	}
	return names
}

// readChecksums parses a sha256sum file into file name -> hex digest.
func readChecksums(t *testing.T, path string) map[string]string {
	t.Helper()
	g := NewWithT(t)
	f, err := os.Open(path)
	g.Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	sums := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// sha256sum's text mode: the digest, two spaces, the name.
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		g.Expect(ok).To(BeTrue(), "line %q", sc.Text())
		g.Expect(name).NotTo(ContainSubstring("/"), "names are relative to the release directory")
		sums[name] = sum
	}
	g.Expect(sc.Err()).NotTo(HaveOccurred())
	return sums
}

// checkBinary checks a manager binary: a static ELF executable for machine,
// built from cmd/manager for linux without cgo, with -trimpath and with
// dryVersion stamped in.
func checkBinary(t *testing.T, path string, machine elf.Machine) {
	t.Helper()
	g := NewWithT(t)
	f, err := elf.Open(path)
	g.Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	g.Expect(f.Machine).To(Equal(machine))
	g.Expect(f.Class).To(Equal(elf.ELFCLASS64))
	g.Expect(f.Type).To(Equal(elf.ET_EXEC))
	for _, p := range f.Progs {
		g.Expect(p.Type).NotTo(Equal(elf.PT_INTERP), "a static binary has no ELF interpreter")
		g.Expect(p.Type).NotTo(Equal(elf.PT_DYNAMIC), "a static binary has no dynamic section")
	}
	libs, err := f.ImportedLibraries()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(libs).To(BeEmpty())

	info, err := buildinfo.ReadFile(path)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(info.Path).To(Equal(managerPackage))
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	arch := map[elf.Machine]string{elf.EM_X86_64: "amd64", elf.EM_AARCH64: "arm64"}[machine]
	g.Expect(settings).To(HaveKeyWithValue("CGO_ENABLED", "0"))
	g.Expect(settings).To(HaveKeyWithValue("GOOS", "linux"))
	g.Expect(settings).To(HaveKeyWithValue("GOARCH", arch))
	g.Expect(settings).To(HaveKeyWithValue("-trimpath", "true"))

	// With -trimpath the build info does not record -ldflags, so the
	// version's only copy in the binary is the value that -X stamped into
	// main.version: an -X naming a variable that does not exist would leave
	// none.
	data, err := os.ReadFile(path)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(settings).NotTo(HaveKey("-ldflags"))
	g.Expect(bytes.Count(data, []byte(dryVersion))).To(Equal(1), "the version is stamped into main.version")
}

// chartMetadata returns the Chart.yaml of a packaged chart.
func chartMetadata(t *testing.T, path string) map[string]any {
	t.Helper()
	g := NewWithT(t)
	f, err := os.Open(path)
	g.Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	zr, err := gzip.NewReader(f)
	g.Expect(err).NotTo(HaveOccurred())
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			t.Fatalf("%s has no connectcases-operator/Chart.yaml", path)
		}
		g.Expect(err).NotTo(HaveOccurred())
		if h.Name != "connectcases-operator/Chart.yaml" {
			continue
		}
		data, err := io.ReadAll(tr)
		g.Expect(err).NotTo(HaveOccurred())
		meta := map[string]any{}
		g.Expect(yaml.Unmarshal(data, &meta)).To(Succeed())
		return meta
	}
}

// decodeObjects reads the objects of a multi-document YAML file.
func decodeObjects(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	g := NewWithT(t)
	data, err := os.ReadFile(path)
	g.Expect(err).NotTo(HaveOccurred())
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		err := dec.Decode(&u.Object)
		if errors.Is(err, io.EOF) {
			return objs
		}
		g.Expect(err).NotTo(HaveOccurred())
		if len(u.Object) > 0 {
			objs = append(objs, u)
		}
	}
}
