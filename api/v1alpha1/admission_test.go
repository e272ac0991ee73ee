package v1alpha1_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/connectcases-operator/connectcases-operator/internal/testenv"
)

var k8sClient client.Client

const namespace = "admission"

func TestMain(m *testing.M) {
	env, cfg, err := testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer func() { _ = env.Stop() }()
		k8sClient, err = client.New(cfg, client.Options{})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}
		if err := k8sClient.Create(context.Background(), ns); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

// manifest parses a CaseFieldUpdate manifest for the admission namespace.
func manifest(t *testing.T, name, spec string) *unstructured.Unstructured {
	t.Helper()
	doc := fmt.Sprintf("apiVersion: cases.connectcases.dev/v1alpha1\nkind: CaseFieldUpdate\nmetadata:\n  name: %s\n  namespace: %s\nspec:\n%s", name, namespace, indent(spec))
	obj := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil {
		t.Fatalf("bad test manifest: %v\n%s", err, doc)
	}
	return obj
}

func indent(s string) string {
	lines := strings.Split(strings.Trim(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "  " + l
	}
	return strings.Join(lines, "\n") + "\n"
}

// objectName turns a test case's name into an object name.
func objectName(prefix, name string) string {
	var b strings.Builder
	b.WriteString(prefix + "-")
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteRune('-')
		}
	}
	return b.String()
}

// repeated returns a YAML list of n fields with distinct ids.
func repeated(n int, idLen int) string {
	var b strings.Builder
	for i := range n {
		id := fmt.Sprintf("%0*d", idLen, i)
		fmt.Fprintf(&b, "- id: %q\n  value: {booleanValue: true}\n", id)
	}
	return b.String()
}

func TestAdmissionRejectsMalformedObjects(t *testing.T) {
	long501 := strings.Repeat("x", 501)
	tests := map[string]struct {
		spec    string
		message string
	}{
		"no domainId": {
			spec:    "caseId: c\nfields: [{id: a, value: {booleanValue: true}}]",
			message: `spec.domainId: Required value`,
		},
		"empty domainId": {
			spec:    "domainId: ''\ncaseId: c\nfields: [{id: a, value: {booleanValue: true}}]",
			message: `spec.domainId: Invalid value: "": spec.domainId in body should be at least 1 chars long`,
		},
		"domainId too long": {
			spec:    "domainId: " + long501 + "\ncaseId: c\nfields: [{id: a, value: {booleanValue: true}}]",
			message: `spec.domainId: Too long: may not be more than 500 bytes`,
		},
		"no caseId": {
			spec:    "domainId: d\nfields: [{id: a, value: {booleanValue: true}}]",
			message: `spec.caseId: Required value`,
		},
		"caseId too long": {
			spec:    "domainId: d\ncaseId: " + long501 + "\nfields: [{id: a, value: {booleanValue: true}}]",
			message: `spec.caseId: Too long: may not be more than 500 bytes`,
		},
		"no fields": {
			spec:    "domainId: d\ncaseId: c",
			message: `spec.fields: Required value`,
		},
		"empty fields": {
			spec:    "domainId: d\ncaseId: c\nfields: []",
			message: `spec.fields: Invalid value: 0: spec.fields in body should have at least 1 items`,
		},
		"221 fields": {
			spec:    "domainId: d\ncaseId: c\nfields:\n" + repeated(221, 3),
			message: `spec.fields: Too many: 221: must have at most 220 items`,
		},
		"duplicate field id": {
			spec:    "domainId: d\ncaseId: c\nfields:\n- {id: a, value: {booleanValue: true}}\n- {id: a, value: {booleanValue: false}}",
			message: `each field id may appear only once in fields`,
		},
		"field without id or name": {
			spec:    "domainId: d\ncaseId: c\nfields: [{value: {booleanValue: true}}]",
			message: `a field must set exactly one of id or name`,
		},
		"field with id and name": {
			spec:    "domainId: d\ncaseId: c\nfields: [{id: a, name: Priority, value: {booleanValue: true}}]",
			message: `a field must set exactly one of id or name`,
		},
		"duplicate field name": {
			spec:    "domainId: d\ncaseId: c\nfields:\n- {name: Priority, value: {stringValue: high}}\n- {name: Priority, value: {stringValue: low}}",
			message: `each field name may appear only once in fields`,
		},
		"field name too long": {
			spec:    "domainId: d\ncaseId: c\nfields: [{name: " + strings.Repeat("n", 101) + ", value: {booleanValue: true}}]",
			message: `spec.fields[0].name: Too long: may not be more than 100 bytes`,
		},
		"valueFrom with both references": {
			spec:    "domainId: d\ncaseId: c\nfields: [{id: a, value: {valueFrom: {secretKeyRef: {name: s, key: k}, configMapKeyRef: {name: c, key: k}}}}]",
			message: `valueFrom must set exactly one of secretKeyRef or configMapKeyRef`,
		},
		"valueFrom without a key": {
			spec:    "domainId: d\ncaseId: c\nfields: [{id: a, value: {valueFrom: {secretKeyRef: {name: s}}}}]",
			message: `spec.fields[0].value.valueFrom.secretKeyRef.key: Required value`,
		},
		"valueFrom and a value": {
			spec:    "domainId: d\ncaseId: c\nfields: [{id: a, value: {stringValue: x, valueFrom: {configMapKeyRef: {name: c, key: k}}}}]",
			message: `value must set exactly one of booleanValue, doubleValue, stringValue, emptyValue, userArnValue or valueFrom`,
		},
		"field id too long": {
			spec:    "domainId: d\ncaseId: c\nfields: [{id: " + long501 + ", value: {booleanValue: true}}]",
			message: `spec.fields[0].id: Too long: may not be more than 500 bytes`,
		},
		"field without value": {
			spec:    "domainId: d\ncaseId: c\nfields: [{id: a}]",
			message: `spec.fields[0].value: Required value`,
		},
		"value with no member": {
			spec:    "domainId: d\ncaseId: c\nfields: [{id: a, value: {}}]",
			message: `value must set exactly one of booleanValue, doubleValue, stringValue, emptyValue, userArnValue or valueFrom`,
		},
		"value with two members": {
			spec:    "domainId: d\ncaseId: c\nfields: [{id: a, value: {booleanValue: true, stringValue: x}}]",
			message: `value must set exactly one of booleanValue, doubleValue, stringValue, emptyValue, userArnValue or valueFrom`,
		},
		"stringValue too long": {
			spec:    "domainId: d\ncaseId: c\nfields: [{id: a, value: {stringValue: " + strings.Repeat("s", 4101) + "}}]",
			message: `spec.fields[0].value.stringValue: Too long: may not be more than 4100 bytes`,
		},
		"doubleValue as a string": {
			spec:    "domainId: d\ncaseId: c\nfields: [{id: a, value: {doubleValue: 'four'}}]",
			message: `spec.fields[0].value.doubleValue: Invalid value: "string": spec.fields[0].value.doubleValue in body must be of type number`,
		},
		"booleanValue as a string": {
			spec:    "domainId: d\ncaseId: c\nfields: [{id: a, value: {booleanValue: 'yes'}}]",
			message: `spec.fields[0].value.booleanValue: Invalid value: "string": spec.fields[0].value.booleanValue in body must be of type boolean`,
		},
		"empty userArnValue": {
			spec:    "domainId: d\ncaseId: c\nfields: [{id: a, value: {userArnValue: ''}}]",
			message: `spec.fields[0].value.userArnValue: Invalid value: "": spec.fields[0].value.userArnValue in body should be at least 1 chars long`,
		},
		"emptyValue with a member": {
			spec:    "domainId: d\ncaseId: c\nfields: [{id: a, value: {emptyValue: {x: 1}}}]",
			message: `unknown field "spec.fields[0].value.emptyValue.x"`,
		},
		"performedBy with both members": {
			spec:    "domainId: d\ncaseId: c\nfields: [{id: a, value: {booleanValue: true}}]\nperformedBy: {userArn: u, customEntity: e}",
			message: `performedBy must set exactly one of userArn or customEntity`,
		},
		"performedBy with no member": {
			spec:    "domainId: d\ncaseId: c\nfields: [{id: a, value: {booleanValue: true}}]\nperformedBy: {}",
			message: `performedBy must set exactly one of userArn or customEntity`,
		},
		"customEntity ending with a space": {
			spec:    "domainId: d\ncaseId: c\nfields: [{id: a, value: {booleanValue: true}}]\nperformedBy: {customEntity: 'gitops '}",
			message: `spec.performedBy.customEntity: Invalid value: "gitops ": spec.performedBy.customEntity in body should match`,
		},
		"customEntity with a forbidden character": {
			spec:    "domainId: d\ncaseId: c\nfields: [{id: a, value: {booleanValue: true}}]\nperformedBy: {customEntity: 'a#b'}",
			message: `spec.performedBy.customEntity: Invalid value: "a#b"`,
		},
		"userArn too long": {
			spec:    "domainId: d\ncaseId: c\nfields: [{id: a, value: {booleanValue: true}}]\nperformedBy: {userArn: " + long501 + "}",
			message: `spec.performedBy.userArn: Too long: may not be more than 500 bytes`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			obj := manifest(t, objectName("bad", name), tc.spec)
			err := k8sClient.Create(context.Background(), obj, client.FieldValidation("Strict"))
			g.Expect(err).To(HaveOccurred(), "the API server accepted a malformed object")
			g.Expect(err.Error()).To(ContainSubstring(tc.message))
		})
	}
}

func TestAdmissionAcceptsValidObjects(t *testing.T) {
	tests := map[string]string{
		"every value type": `
domainId: d
caseId: c
fields:
- {id: escalated, value: {booleanValue: false}}
- {id: score, value: {doubleValue: 4.5}}
- {id: count, value: {doubleValue: 3}}
- {id: summary, value: {stringValue: ""}}
- {id: due, value: {emptyValue: {}}}
- {id: owner, value: {userArnValue: "arn:aws:connect:us-east-1:123456789012:instance/i/agent/a"}}`,
		"220 fields of the longest ids": "domainId: d\ncaseId: c\nfields:\n" + repeated(220, 500),
		"performedBy user":              "domainId: d\ncaseId: c\nfields: [{id: a, value: {booleanValue: true}}]\nperformedBy: {userArn: arn:aws:connect:us-east-1:1:instance/i/agent/a}",
		"performedBy custom entity":     "domainId: d\ncaseId: c\nfields: [{id: a, value: {booleanValue: true}}]\nperformedBy: {customEntity: 'GitOps pipeline: team-a/prod'}",
		"longest ids and string":        "domainId: " + strings.Repeat("d", 500) + "\ncaseId: " + strings.Repeat("c", 500) + "\nfields: [{id: a, value: {stringValue: " + strings.Repeat("s", 4100) + "}}]",
	}
	for name, spec := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			obj := manifest(t, objectName("ok", name), spec)
			g.Expect(k8sClient.Create(context.Background(), obj, client.FieldValidation("Strict"))).To(Succeed())
		})
	}
}

func TestDomainAndCaseAreImmutable(t *testing.T) {
	tests := map[string]struct {
		path    string
		message string
	}{
		"domainId": {path: "domainId", message: "domainId is immutable"},
		"caseId":   {path: "caseId", message: "caseId is immutable"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			ctx := context.Background()
			obj := manifest(t, "immutable-"+strings.ToLower(name), "domainId: d\ncaseId: c\nfields: [{id: a, value: {booleanValue: true}}]")
			g.Expect(k8sClient.Create(ctx, obj)).To(Succeed())

			// Changing the fields is allowed.
			g.Expect(unstructured.SetNestedSlice(obj.Object, []any{map[string]any{"id": "a", "value": map[string]any{"booleanValue": false}}}, "spec", "fields")).To(Succeed())
			g.Expect(k8sClient.Update(ctx, obj)).To(Succeed())
			g.Expect(obj.GetGeneration()).To(Equal(int64(2)))

			g.Expect(unstructured.SetNestedField(obj.Object, "other", "spec", tc.path)).To(Succeed())
			err := k8sClient.Update(ctx, obj)
			g.Expect(err).To(HaveOccurred())
			g.Expect(err.Error()).To(ContainSubstring(tc.message))
		})
	}
}
