package main

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"testing"

	. "github.com/onsi/gomega"
)

// managerFlags returns the names of the flags the manager accepts, read from
// its own --help output.
func managerFlags(t *testing.T) []string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = w
	_, perr := parseFlags([]string{"--help"})
	os.Stderr = stderr
	_ = w.Close()
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(perr, flag.ErrHelp) {
		t.Fatalf("--help: %v", perr)
	}
	return namesIn(regexp.MustCompile(`(?m)^\s+-{1,2}([a-z][a-z0-9-]+)`), string(out))
}

// namesIn returns the sorted, distinct first groups of re's matches in s.
func namesIn(re *regexp.Regexp, s string) []string {
	set := map[string]bool{}
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		set[m[1]] = true
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// TestConfigurationDocsListEveryFlag keeps docs/configuration.md's flag table
// and the manager's flags in step: every flag is documented, and the table
// names no flag the manager does not have.
func TestConfigurationDocsListEveryFlag(t *testing.T) {
	g := NewWithT(t)
	flags := managerFlags(t)
	g.Expect(flags).To(ContainElements("aws-rps", "enable-value-from", "zap-log-level"), "the --help output was read")
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	g.Expect(err).NotTo(HaveOccurred())
	// The table's first column: "| `--flag`, `--other` | ...".
	documented := namesIn(regexp.MustCompile("`--([a-z][a-z0-9-]+)`"), firstColumns(string(doc)))
	g.Expect(documented).To(Equal(flags), "docs/configuration.md's table against manager --help")
}

// firstColumns returns the first cells of the Markdown table rows of s.
func firstColumns(s string) string {
	var out []byte
	for _, m := range regexp.MustCompile(`(?m)^\|([^|]*)\|`).FindAllStringSubmatch(s, -1) {
		out = append(out, m[1]...)
		out = append(out, '\n')
	}
	return string(out)
}
