package packaging

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// TestManagerBinaryIsStatic builds the manager as the Dockerfile does
// (CGO_ENABLED=0, linux) and checks that the binary needs nothing from the
// image: no ELF interpreter and no shared library, so it runs on
// distroless/static.
func TestManagerBinaryIsStatic(t *testing.T) {
	g := NewWithT(t)
	dockerfile, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(dockerfile)).To(ContainSubstring("CGO_ENABLED=0"))
	g.Expect(string(dockerfile)).To(ContainSubstring("FROM gcr.io/distroless/static:nonroot"))
	g.Expect(string(dockerfile)).To(ContainSubstring("USER 65532:65532"))

	bin := filepath.Join(t.TempDir(), "manager")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "./cmd/manager")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	out, err := cmd.CombinedOutput()
	g.Expect(err).NotTo(HaveOccurred(), string(out))

	f, err := elf.Open(bin)
	g.Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	for _, p := range f.Progs {
		g.Expect(p.Type).NotTo(Equal(elf.PT_INTERP), "a static binary has no ELF interpreter")
		g.Expect(p.Type).NotTo(Equal(elf.PT_DYNAMIC), "a static binary has no dynamic section")
	}
	libs, err := f.ImportedLibraries()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(libs).To(BeEmpty(), "DT_NEEDED libraries: %s", strings.Join(libs, ", "))
}
