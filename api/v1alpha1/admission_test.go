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
	"k8s.io/apimachinery/pkg/util/version"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/connectcases-operator/connectcases-operator/internal/testenv"
)

// server is an API server that every admission test runs against.
type server struct {
	// version is the server's version, such as v1.32.13: it names the
	// subtests.
	version string
	client  client.Client
}

// servers are the oldest supported API server and the newest, in that
// order.
var servers []server

const namespace = "admission"

// TestMain starts the oldest supported control plane (testenv.OldestAssets)
// and the newest (testenv.Assets), each with the CRD, so that every case
// runs on both: a rule that an older server cannot compile fails the CRD's
// installation there.
func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(code)
}

// run starts the servers, runs the tests and stops the servers.
func run(m *testing.M) (int, error) {
	oldest, err := testenv.OldestAssets()
	if err != nil {
		return 0, err
	}
	newest, err := testenv.Assets()
	if err != nil {
		return 0, err
	}
	for _, assets := range []string{oldest, newest} {
		env, cfg, err := testenv.StartWith(assets)
		if err != nil {
			return 0, fmt.Errorf("control plane of %s: %w", assets, err)
		}
		defer func() { _ = env.Stop() }()
		s, err := connect(cfg)
		if err != nil {
			return 0, fmt.Errorf("control plane of %s: %w", assets, err)
		}
		servers = append(servers, s)
	}
	if err := checkVersions(servers[0].version, servers[1].version); err != nil {
		return 0, err
	}
	return m.Run(), nil
}

// connect reads the server's version and creates the test namespace.
func connect(cfg *rest.Config) (server, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return server{}, err
	}
	info, err := dc.ServerVersion()
	if err != nil {
		return server{}, fmt.Errorf("failed to read the server version: %w", err)
	}
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		return server{}, err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}
	if err := c.Create(context.Background(), ns); err != nil {
		return server{}, fmt.Errorf("failed to create namespace %q: %w", namespace, err)
	}
	return server{version: info.GitVersion, client: c}, nil
}

// checkVersions fails when the oldest server is not of the oldest supported
// minor version, or the newest is not newer: the suite would then test less
// than it claims.
func checkVersions(oldest, newest string) error {
	want := version.MustParseGeneric(testenv.OldestKubeVersion)
	o, err := version.ParseGeneric(oldest)
	if err != nil {
		return fmt.Errorf("oldest API server version %q: %w", oldest, err)
	}
	n, err := version.ParseGeneric(newest)
	if err != nil {
		return fmt.Errorf("newest API server version %q: %w", newest, err)
	}
	if o.Major() != want.Major() || o.Minor() != want.Minor() {
		return fmt.Errorf("the oldest API server is %s, want %d.%d (check %s)", oldest, want.Major(), want.Minor(), testenv.OldestAssetsEnv)
	}
	if !o.LessThan(n) {
		return fmt.Errorf("the newest API server (%s) is not newer than the oldest (%s): check KUBEBUILDER_ASSETS", newest, oldest)
	}
	return nil
}

// onEachServer runs test once per server, as a subtest named by the
// server's version.
func onEachServer(t *testing.T, test func(t *testing.T, c client.Client)) {
	t.Helper()
	for _, s := range servers {
		t.Run(s.version, func(t *testing.T) { test(t, s.client) })
	}
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

// repeated returns a YAML list of n fields with distinct ids of idLen
// characters.
func repeated(n int, idLen int) string {
	return numbered("id", 0, n, idLen)
}

// numbered returns a YAML list of n fields whose key (id or name) is the
// number from, from+1, ... padded with zeros to size characters.
func numbered(key string, from, n, size int) string {
	var b strings.Builder
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, "- %s: %q\n  value: {booleanValue: true}\n", key, fmt.Sprintf("%0*d", size, i))
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
		"the same field twice": {
			spec:    "domainId: d\ncaseId: c\nfields:\n- {id: a, value: {booleanValue: true}}\n- {id: b, value: {booleanValue: true}}\n- {id: a, value: {booleanValue: true}}",
			message: `each field id may appear only once in fields`,
		},
		"first and last of 220 longest ids alike": {
			spec:    "domainId: d\ncaseId: c\nfields:\n" + numbered("id", 0, 219, 500) + numbered("id", 0, 1, 500),
			message: `each field id may appear only once in fields`,
		},
		"first and last of 220 longest names alike": {
			spec:    "domainId: d\ncaseId: c\nfields:\n" + numbered("name", 0, 219, 100) + numbered("name", 0, 1, 100),
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
		"ttlSecondsAfterApplied with Enforce": {
			spec:    "domainId: d\ncaseId: c\nfields: [{id: a, value: {booleanValue: true}}]\nsyncPolicy: Enforce\nttlSecondsAfterApplied: 60",
			message: `ttlSecondsAfterApplied cannot be combined with syncPolicy Enforce`,
		},
		"negative ttlSecondsAfterApplied": {
			spec:    "domainId: d\ncaseId: c\nfields: [{id: a, value: {booleanValue: true}}]\nttlSecondsAfterApplied: -1",
			message: `spec.ttlSecondsAfterApplied: Invalid value: -1: spec.ttlSecondsAfterApplied in body should be greater than or equal to 0`,
		},
		"userArn too long": {
			spec:    "domainId: d\ncaseId: c\nfields: [{id: a, value: {booleanValue: true}}]\nperformedBy: {userArn: " + long501 + "}",
			message: `spec.performedBy.userArn: Too long: may not be more than 500 bytes`,
		},
	}
	onEachServer(t, func(t *testing.T, c client.Client) {
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				g := NewWithT(t)
				obj := manifest(t, objectName("bad", name), tc.spec)
				err := c.Create(context.Background(), obj, client.FieldValidation("Strict"))
				g.Expect(err).To(HaveOccurred(), "the API server accepted a malformed object")
				g.Expect(err.Error()).To(ContainSubstring(tc.message))
			})
		}
	})
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
		// The uniqueness rules' runtime cost grows with the square of the
		// number of fields: the largest object must stay within budget.
		"220 fields of the longest ids":         "domainId: d\ncaseId: c\nfields:\n" + repeated(220, 500),
		"220 fields of the longest names":       "domainId: d\ncaseId: c\nfields:\n" + numbered("name", 0, 220, 100),
		"110 longest ids and 110 longest names": "domainId: d\ncaseId: c\nfields:\n" + numbered("id", 0, 110, 500) + numbered("name", 110, 110, 100),
		"an id that is another field's name":    "domainId: d\ncaseId: c\nfields:\n- {id: Priority, value: {stringValue: high}}\n- {name: Priority, value: {stringValue: low}}",
		"a one-shot object":                     "domainId: d\ncaseId: c\nfields: [{id: a, value: {booleanValue: true}}]\nttlSecondsAfterApplied: 0",
		"performedBy user":                      "domainId: d\ncaseId: c\nfields: [{id: a, value: {booleanValue: true}}]\nperformedBy: {userArn: arn:aws:connect:us-east-1:1:instance/i/agent/a}",
		"performedBy custom entity":             "domainId: d\ncaseId: c\nfields: [{id: a, value: {booleanValue: true}}]\nperformedBy: {customEntity: 'GitOps pipeline: team-a/prod'}",
		"longest ids and string":                "domainId: " + strings.Repeat("d", 500) + "\ncaseId: " + strings.Repeat("c", 500) + "\nfields: [{id: a, value: {stringValue: " + strings.Repeat("s", 4100) + "}}]",
	}
	onEachServer(t, func(t *testing.T, c client.Client) {
		for name, spec := range tests {
			t.Run(name, func(t *testing.T) {
				g := NewWithT(t)
				obj := manifest(t, objectName("ok", name), spec)
				g.Expect(c.Create(context.Background(), obj, client.FieldValidation("Strict"))).To(Succeed())
			})
		}
	})
}

func TestDomainAndCaseAreImmutable(t *testing.T) {
	tests := map[string]struct {
		path    string
		message string
	}{
		"domainId": {path: "domainId", message: "domainId is immutable"},
		"caseId":   {path: "caseId", message: "caseId is immutable"},
	}
	onEachServer(t, func(t *testing.T, c client.Client) {
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				g := NewWithT(t)
				ctx := context.Background()
				obj := manifest(t, "immutable-"+strings.ToLower(name), "domainId: d\ncaseId: c\nfields: [{id: a, value: {booleanValue: true}}]")
				g.Expect(c.Create(ctx, obj)).To(Succeed())

				// Changing the fields is allowed.
				g.Expect(unstructured.SetNestedSlice(obj.Object, []any{map[string]any{"id": "a", "value": map[string]any{"booleanValue": false}}}, "spec", "fields")).To(Succeed())
				g.Expect(c.Update(ctx, obj)).To(Succeed())
				g.Expect(obj.GetGeneration()).To(Equal(int64(2)))

				g.Expect(unstructured.SetNestedField(obj.Object, "other", "spec", tc.path)).To(Succeed())
				err := c.Update(ctx, obj)
				g.Expect(err).To(HaveOccurred())
				g.Expect(err.Error()).To(ContainSubstring(tc.message))
			})
		}
	})
}

// connectionManifest parses a cluster-scoped CasesConnection manifest.
func connectionManifest(t *testing.T, name, spec string) *unstructured.Unstructured {
	t.Helper()
	doc := fmt.Sprintf("apiVersion: cases.connectcases.dev/v1alpha1\nkind: CasesConnection\nmetadata:\n  name: %s\nspec:\n%s", name, indent(spec))
	obj := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil {
		t.Fatalf("bad test manifest: %v\n%s", err, doc)
	}
	return obj
}

func TestAdmissionOfConnections(t *testing.T) {
	const role = "arn:aws:iam::123456789012:role/cases-writer"
	tests := map[string]struct {
		spec    string
		message string // "" when the object is valid
	}{
		"minimal":            {spec: "region: us-east-1\ndomains: ['*']"},
		"every field":        {spec: "region: eu-west-2\ndomains: [d1, d2]\nnamespaceSelector: {matchLabels: {team: a}}\nassumeRole: {roleArn: '" + role + "', externalId: team-a, sessionName: ops, durationSeconds: 900}\nendpoints: {connectcases: 'https://cases.example.com', sts: 'http://127.0.0.1:8080'}\nrateLimits: {UpdateCase: {rps: 1.5, burst: 2}}"},
		"role with a path":   {spec: "region: us-east-1\ndomains: ['*']\nassumeRole: {roleArn: 'arn:aws:iam::123456789012:role/teams/a/writer'}"},
		"GovCloud role":      {spec: "region: us-gov-west-1\ndomains: ['*']\nassumeRole: {roleArn: 'arn:aws-us-gov:iam::123456789012:role/writer'}"},
		"no region":          {spec: "domains: ['*']", message: "spec.region: Required value"},
		"empty region":       {spec: "region: ''\ndomains: ['*']", message: "spec.region"},
		"no domains":         {spec: "region: us-east-1", message: "spec.domains: Required value"},
		"malformed role ARN": {spec: "region: us-east-1\ndomains: ['*']\nassumeRole: {roleArn: 'cases-writer'}", message: "spec.assumeRole.roleArn: Invalid value"},
		"user ARN":           {spec: "region: us-east-1\ndomains: ['*']\nassumeRole: {roleArn: 'arn:aws:iam::123456789012:user/bob'}", message: "spec.assumeRole.roleArn: Invalid value"},
		"short account":      {spec: "region: us-east-1\ndomains: ['*']\nassumeRole: {roleArn: 'arn:aws:iam::1234:role/writer'}", message: "spec.assumeRole.roleArn: Invalid value"},
		"no role ARN":        {spec: "region: us-east-1\ndomains: ['*']\nassumeRole: {externalId: x1}", message: "spec.assumeRole.roleArn: Required value"},
		"duration too short": {spec: "region: us-east-1\ndomains: ['*']\nassumeRole: {roleArn: '" + role + "', durationSeconds: 60}", message: "spec.assumeRole.durationSeconds"},
		"duration too long":  {spec: "region: us-east-1\ndomains: ['*']\nassumeRole: {roleArn: '" + role + "', durationSeconds: 43201}", message: "spec.assumeRole.durationSeconds"},
		"endpoint not a URL": {spec: "region: us-east-1\ndomains: ['*']\nendpoints: {sts: 'not a url'}", message: "sts must be an http or https URL"},
		"zero rps":           {spec: "region: us-east-1\ndomains: ['*']\nrateLimits: {UpdateCase: {rps: 0}}", message: "rps must be greater than 0"},
		"bad session name":   {spec: "region: us-east-1\ndomains: ['*']\nassumeRole: {roleArn: '" + role + "', sessionName: 'a b'}", message: "spec.assumeRole.sessionName"},
	}
	onEachServer(t, func(t *testing.T, c client.Client) {
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				g := NewWithT(t)
				obj := connectionManifest(t, objectName("conn", name), tc.spec)
				err := c.Create(context.Background(), obj, client.FieldValidation("Strict"))
				if tc.message == "" {
					g.Expect(err).NotTo(HaveOccurred())
					g.Expect(c.Delete(context.Background(), obj)).To(Succeed())
					return
				}
				g.Expect(err).To(HaveOccurred(), "the API server accepted a malformed connection")
				g.Expect(err.Error()).To(ContainSubstring(tc.message))
			})
		}
	})
}

func TestAdmissionOfConnectionRef(t *testing.T) {
	tests := map[string]struct {
		spec    string
		message string
	}{
		"named":      {spec: "domainId: d\ncaseId: c\nfields: [{id: a, value: {booleanValue: true}}]\nconnectionRef: {name: team-a}"},
		"empty name": {spec: "domainId: d\ncaseId: c\nfields: [{id: a, value: {booleanValue: true}}]\nconnectionRef: {name: ''}", message: "spec.connectionRef.name"},
		"no name":    {spec: "domainId: d\ncaseId: c\nfields: [{id: a, value: {booleanValue: true}}]\nconnectionRef: {}", message: "spec.connectionRef.name: Required value"},
	}
	onEachServer(t, func(t *testing.T, c client.Client) {
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				g := NewWithT(t)
				obj := manifest(t, objectName("ref", name), tc.spec)
				err := c.Create(context.Background(), obj, client.FieldValidation("Strict"))
				if tc.message == "" {
					g.Expect(err).NotTo(HaveOccurred())
					// connectionRef is mutable: another connection may be named.
					g.Expect(unstructured.SetNestedField(obj.Object, "team-b", "spec", "connectionRef", "name")).To(Succeed())
					g.Expect(c.Update(context.Background(), obj)).To(Succeed())
					return
				}
				g.Expect(err).To(HaveOccurred())
				g.Expect(err.Error()).To(ContainSubstring(tc.message))
			})
		}
	})
}
