package emulator

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	. "github.com/onsi/gomega"
)

const demoSeedPath = "../../config/emulator/demo-seed.yaml"

func TestDemoSeed(t *testing.T) {
	g := NewWithT(t)
	seed, err := LoadSeed(demoSeedPath)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(seed.Domains).To(HaveLen(2))

	demo := seed.Domains[0]
	g.Expect(demo.ID).To(Equal("demo-domain"))
	kinds := map[string]string{}
	names := map[string]string{}
	for _, f := range demo.Fields {
		kinds[f.ID], names[f.ID] = f.Type, f.Name
	}
	g.Expect(kinds).To(HaveKeyWithValue("priority", "SingleSelect"))
	g.Expect(kinds).To(HaveKeyWithValue("escalated", "Boolean"))
	g.Expect(kinds).To(HaveKeyWithValue("score", "Number"))
	g.Expect(kinds).To(HaveKeyWithValue("summary", "Text"))
	g.Expect(kinds).To(HaveKeyWithValue("owner", "User"))
	g.Expect(names).To(HaveKeyWithValue("priority", "Priority"))
	var options []string
	for _, o := range demo.Fields[0].Options {
		options = append(options, o.Value)
	}
	g.Expect(options).To(Equal([]string{"high", "medium", "low"}))
	g.Expect(demo.Templates[0].RequiredFields).To(Equal([]string{"summary"}))
	var cases []string
	for _, c := range demo.Cases {
		cases = append(cases, c.ID)
	}
	g.Expect(cases).To(Equal([]string{"case-0001", "case-0002", "case-0003", "case-0004", "case-0005"}))
	g.Expect(seed.Domains[1].ID).To(Equal("locked-domain"))
}

func TestDemoSeedShowsAccessDenied(t *testing.T) {
	g := NewWithT(t)
	seed, err := LoadSeed(demoSeedPath)
	g.Expect(err).NotTo(HaveOccurred())
	e := newEnv(t, func(o *Options) { o.Seed = seed })
	ctx := context.Background()
	demo := e.clientFor("AKIDEMOCONNECTCASES", "demo-secret-access-key-not-for-production")
	reader := e.clientFor("AKIDEMOREADONLY", "demo-readonly-secret-access-key-not-for-production")
	get := func(c *connectcases.Client, domain, caseID string) error {
		_, err := c.GetCase(ctx, &connectcases.GetCaseInput{DomainId: aws.String(domain), CaseId: aws.String(caseID),
			Fields: []types.FieldIdentifier{{Id: aws.String("summary")}}})
		return err
	}
	var ad *types.AccessDeniedException
	g.Expect(get(demo, "demo-domain", "case-0001")).To(Succeed())
	g.Expect(errors.As(get(demo, "locked-domain", "case-locked-0001"), &ad)).To(BeTrue())
	g.Expect(get(reader, "demo-domain", "case-0003")).To(Succeed())
	_, err = reader.UpdateCase(ctx, &connectcases.UpdateCaseInput{DomainId: aws.String("demo-domain"), CaseId: aws.String("case-0001"),
		Fields: []types.FieldValue{entry("priority", str("low"))}})
	g.Expect(errors.As(err, &ad)).To(BeTrue(), "error %v", err)
	_, err = demo.UpdateCase(ctx, &connectcases.UpdateCaseInput{DomainId: aws.String("demo-domain"), CaseId: aws.String("case-0001"),
		Fields: []types.FieldValue{entry("priority", str("low"))}})
	g.Expect(err).NotTo(HaveOccurred())
}

func TestInvalidSeeds(t *testing.T) {
	domain := func(body string) string {
		return "domains:\n- id: d\n  name: D\n" + body
	}
	fields := "  fields:\n  - {id: s, name: S, type: Text}\n  - {id: p, name: P, type: SingleSelect, options: [{name: A, value: a}, {name: B, value: b, active: false}]}\n" +
		"  templates:\n  - {id: t, name: T, requiredFields: [s]}\n"
	tests := map[string]struct {
		yaml string
		want string
	}{
		"unknown key":               {"domains:\n- id: d\n  name: D\n  feilds: []\n", "feilds"},
		"not YAML":                  {"domains: [", "failed to decode seed"},
		"duplicate domain":          {"domains:\n- {id: d, name: D}\n- {id: d, name: E}\n", `domain "d" is defined twice`},
		"domain name too long":      {"domains:\n- {id: d, name: " + strings.Repeat("n", 101) + "}\n", "less than or equal to 100"},
		"empty domain id":           {"domains:\n- {id: '', name: D}\n", "'id'"},
		"unknown field type":        {domain("  fields:\n  - {id: f, name: F, type: Colour}\n"), "enum value set"},
		"duplicate field name":      {domain("  fields:\n  - {id: f, name: F, type: Text}\n  - {id: g, name: F, type: Text}\n"), `name "F"`},
		"options on a text field":   {domain("  fields:\n  - {id: f, name: F, type: Text, options: [{name: A, value: a}]}\n"), "only SingleSelect"},
		"duplicate option value":    {domain("  fields:\n  - {id: f, name: F, type: SingleSelect, options: [{name: A, value: a}, {name: B, value: a}]}\n"), `option value "a"`},
		"unknown required field":    {domain("  templates:\n  - {id: t, name: T, requiredFields: [x]}\n"), `required field "x"`},
		"unknown case template":     {domain(fields + "  cases:\n  - {id: c, templateId: nope, fields: {s: {stringValue: x}}}\n"), `template "nope"`},
		"required field missing":    {domain(fields + "  cases:\n  - {id: c, templateId: t}\n"), `field "s" is required`},
		"value of the wrong type":   {domain(fields + "  cases:\n  - {id: c, templateId: t, fields: {s: {doubleValue: 1}}}\n"), "field 's'"},
		"inactive option":           {domain(fields + "  cases:\n  - {id: c, templateId: t, fields: {s: {stringValue: x}, p: {stringValue: b}}}\n"), "not an active option"},
		"unknown field in a case":   {domain(fields + "  cases:\n  - {id: c, templateId: t, fields: {s: {stringValue: x}, z: {stringValue: x}}}\n"), "Field z not found"},
		"two members in a value":    {domain(fields + "  cases:\n  - {id: c, templateId: t, fields: {s: {stringValue: x, doubleValue: 1}}}\n"), "exactly one member"},
		"string value too long":     {domain(fields + "  cases:\n  - {id: c, templateId: t, fields: {s: {stringValue: " + strings.Repeat("x", 4101) + "}}}\n"), "4100"},
		"principal without secret":  {"principals:\n- {accessKeyId: A, actions: ['*'], domains: ['*']}\n", "secretAccessKey"},
		"principal unknown action":  {"principals:\n- {accessKeyId: A, secretAccessKey: s, actions: ['cases:UpdateCas'], domains: ['*']}\n", "UpdateCas"},
		"principal without domains": {"principals:\n- {accessKeyId: A, secretAccessKey: s, actions: ['*']}\n", "domains"},
		"principal twice":           {"principals:\n- {accessKeyId: A, secretAccessKey: s, actions: ['*'], domains: ['*']}\n- {accessKeyId: A, secretAccessKey: t, actions: ['*'], domains: ['*']}\n", "twice"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			_, err := ParseSeed([]byte(tc.yaml))
			g.Expect(err).To(MatchError(ContainSubstring(tc.want)))
		})
	}
}

func TestFieldValueJSON(t *testing.T) {
	tests := map[string]struct {
		json string
		want FieldValue
	}{
		"string":  {`{"stringValue":"a"}`, StringValue("a")},
		"double":  {`{"doubleValue":1.25}`, DoubleValue(1.25)},
		"integer": {`{"doubleValue":3}`, DoubleValue(3)},
		"boolean": {`{"booleanValue":false}`, BooleanValue(false)},
		"user":    {`{"userArnValue":"arn:x"}`, UserArnValue("arn:x")},
		"empty":   {`{"emptyValue":{}}`, EmptyValue()},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			var got FieldValue
			g.Expect(got.UnmarshalJSON([]byte(tc.json))).To(Succeed())
			g.Expect(got.Equal(tc.want)).To(BeTrue(), "got %s", got)
			data, err := got.MarshalJSON()
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(string(data)).To(MatchJSON(tc.json))
		})
	}
	g := NewWithT(t)
	var v FieldValue
	g.Expect(v.UnmarshalJSON([]byte(`{}`))).To(MatchError(ContainSubstring("exactly one")))
	g.Expect(v.UnmarshalJSON([]byte(`{"stringValue":"a","booleanValue":true}`))).To(MatchError(ContainSubstring("exactly one")))
	_, err := FieldValue{}.MarshalJSON()
	g.Expect(err).To(HaveOccurred())
}
