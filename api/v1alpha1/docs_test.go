package v1alpha1

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

// notReadyReasons are reason constants that are not reasons of a
// CaseFieldUpdate's Ready condition.
var notReadyReasons = []string{
	"DriftDetectedReason",    // an Event's reason
	"ConnectedReason",        // a CasesConnection's Ready reason
	"AssumeRoleFailedReason", // a CasesConnection's Ready reason
}

// readyReasons returns the values of the reason constants that
// condition_types.go declares for a CaseFieldUpdate's Ready condition.
func readyReasons(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "condition_types.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, decl := range f.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.CONST {
			continue
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasSuffix(name.Name, "Reason") || slices.Contains(notReadyReasons, name.Name) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok {
					t.Fatalf("%s is not a string literal", name.Name)
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, v)
			}
		}
	}
	return out
}

// TestReasonListsMatchTheAPI keeps every list of reasons that users read in
// step with the API's constants: the README's outcome table, the
// troubleshooting table, the GitOps guide and kubectl explain (the CRD's
// description of status.conditions).
func TestReasonListsMatchTheAPI(t *testing.T) {
	reasons := readyReasons(t)
	NewWithT(t).Expect(reasons).To(ContainElements("Applied", "FieldConflict", "Paused"), "the constants were read")
	root := filepath.Join("..", "..")
	read := func(t *testing.T, path string) string {
		data, err := os.ReadFile(filepath.Join(root, path))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	tables := map[string]string{"README.md": "README.md", "troubleshooting": "docs/troubleshooting.md"}
	for name, path := range tables {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			doc := read(t, path)
			for _, r := range reasons {
				g.Expect(doc).To(ContainSubstring("| `"+r+"` |"), "%s has no table row for reason %s", path, r)
			}
		})
	}
	t.Run("gitops", func(t *testing.T) {
		g := NewWithT(t)
		doc := read(t, "docs/gitops.md")
		for _, r := range reasons {
			g.Expect(doc).To(ContainSubstring("`"+r+"`"), "docs/gitops.md does not name reason %s", r)
		}
	})
	t.Run("kubectl explain", func(t *testing.T) {
		g := NewWithT(t)
		crd := &apiextensionsv1.CustomResourceDefinition{}
		g.Expect(yaml.Unmarshal([]byte(read(t, "config/crd/bases/cases.connectcases.dev_casefieldupdates.yaml")), crd)).To(Succeed())
		desc := crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["status"].Properties["conditions"].Description
		for _, r := range reasons {
			g.Expect(desc).To(ContainSubstring(r), "kubectl explain casefieldupdate.status.conditions does not list reason %s", r)
		}
	})
}
