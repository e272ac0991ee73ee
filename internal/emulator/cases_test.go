package emulator

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	. "github.com/onsi/gomega"
)

func TestUpdateCaseStoresEveryFieldType(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	ctx := context.Background()
	arn := "arn:aws:connect:us-east-1:123456789012:instance/i/agent/a"

	_, err := e.client.UpdateCase(ctx, &connectcases.UpdateCaseInput{
		DomainId: aws.String("d1"), CaseId: aws.String("c1"),
		Fields: []types.FieldValue{
			entry("priority", str("low")), entry("escalated", boolean(true)), entry("score", num(42.25)),
			entry("summary", str("updated")), entry("owner", user(arn)), entry("due", str("2024-05-01T10:00:00Z")),
			entry("link", str("https://example.com/x")),
		},
		PerformedBy: &types.UserUnionMemberUserArn{Value: arn},
	})
	g.Expect(err).NotTo(HaveOccurred())

	got := e.caseValues(t, "d1", "c1", "priority", "escalated", "score", "summary", "owner", "due", "link")
	g.Expect(got).To(Equal(map[string]types.FieldValueUnion{
		"priority": str("low"), "escalated": boolean(true), "score": num(42.25), "summary": str("updated"),
		"owner": user(arn), "due": str("2024-05-01T10:00:00Z"), "link": str("https://example.com/x"),
	}))
	stored, ok := e.srv.CaseFields("d1", "c1")
	g.Expect(ok).To(BeTrue())
	g.Expect(stored["score"]).To(Equal(DoubleValue(42.25)))
	g.Expect(e.srv.CallCount("UpdateCase", OutcomeOK)).To(Equal(1))
}

func TestUpdateCaseRespondsWithEmptyBody(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	resp, body := e.raw(t, "PUT", "/domains/d1/cases/c1", `{"fields":[{"id":"score","value":{"doubleValue":3}}]}`)
	g.Expect(resp.StatusCode).To(Equal(200))
	g.Expect(body).To(BeEmpty())
	g.Expect(resp.Header.Get("Content-Type")).To(Equal("application/json"))
	g.Expect(resp.Header.Get("x-amzn-RequestId")).To(MatchRegexp(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`))
}

func TestGetCaseOmitsFieldsWithoutValue(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	got := e.caseValues(t, "d1", "c1", "summary", "owner", "escalated", "summary")
	g.Expect(got).To(Equal(map[string]types.FieldValueUnion{"summary": str("first case")}))

	out, err := e.client.GetCase(context.Background(), &connectcases.GetCaseInput{
		DomainId: aws.String("d1"), CaseId: aws.String("c2"), Fields: []types.FieldIdentifier{{Id: aws.String("priority")}},
	})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(aws.ToString(out.TemplateId)).To(Equal("t1"))
	g.Expect(out.NextToken).To(BeNil())
}

func TestEmptyValueClearsOptionalField(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	_, err := e.client.UpdateCase(context.Background(), &connectcases.UpdateCaseInput{
		DomainId: aws.String("d1"), CaseId: aws.String("c1"), Fields: []types.FieldValue{entry("priority", empty())},
	})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(e.caseValues(t, "d1", "c1", "priority")).To(BeEmpty())
}

func TestUpdateCaseRejectsValuesThatDoNotFit(t *testing.T) {
	tests := map[string]struct {
		field   string
		value   types.FieldValueUnion
		message string
	}{
		"number takes doubleValue":          {"score", str("1"), "field 'score'"},
		"boolean takes booleanValue":        {"escalated", str("true"), "field 'escalated'"},
		"text takes stringValue":            {"summary", num(1), "field 'summary'"},
		"url takes stringValue":             {"link", boolean(true), "field 'link'"},
		"datetime takes stringValue":        {"due", num(1), "field 'due'"},
		"user takes userArnValue":           {"owner", str("arn:aws:x"), "field 'owner'"},
		"single select takes an option":     {"priority", str("urgent"), "not an active option"},
		"single select refuses inactive":    {"priority", str("old"), "not an active option"},
		"single select takes stringValue":   {"priority", num(1), "field 'priority'"},
		"required field cannot be emptied":  {"summary", empty(), "required by template 't1'"},
		"string longer than the model 4100": {"summary", str(string(make([]byte, 4101))), "stringValue"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			e := newEnv(t)
			before, _ := e.srv.CaseFields("d1", "c1")
			valid := entry("score", num(7))
			if tc.field == "score" {
				valid = entry("escalated", boolean(false))
			}
			_, err := e.client.UpdateCase(context.Background(), &connectcases.UpdateCaseInput{
				DomainId: aws.String("d1"), CaseId: aws.String("c1"),
				Fields: []types.FieldValue{valid, entry(tc.field, tc.value)},
			})
			var ve *types.ValidationException
			g.Expect(errors.As(err, &ve)).To(BeTrue(), "error %v", err)
			g.Expect(ve.ErrorMessage()).To(ContainSubstring(tc.message))
			after, _ := e.srv.CaseFields("d1", "c1")
			g.Expect(after).To(Equal(before), "a rejected update must change nothing")
		})
	}
}

func TestNotFoundErrorsNameTheResource(t *testing.T) {
	tests := map[string]struct {
		domain, caseID, field string
		wantID, wantType      string
	}{
		"unknown domain": {"nope", "c1", "summary", "nope", "Domain"},
		"unknown case":   {"d1", "nope", "summary", "nope", "Case"},
		"unknown field":  {"d1", "c1", "nope", "nope", "Field"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			e := newEnv(t)
			_, err := e.client.UpdateCase(context.Background(), &connectcases.UpdateCaseInput{
				DomainId: aws.String(tc.domain), CaseId: aws.String(tc.caseID), Fields: []types.FieldValue{entry(tc.field, str("x"))},
			})
			var nf *types.ResourceNotFoundException
			g.Expect(errors.As(err, &nf)).To(BeTrue(), "error %v", err)
			g.Expect(aws.ToString(nf.ResourceId)).To(Equal(tc.wantID))
			g.Expect(aws.ToString(nf.ResourceType)).To(Equal(tc.wantType))
			g.Expect(nf.ErrorMessage()).NotTo(BeEmpty())

			_, err = e.client.GetCase(context.Background(), &connectcases.GetCaseInput{
				DomainId: aws.String(tc.domain), CaseId: aws.String(tc.caseID), Fields: []types.FieldIdentifier{{Id: aws.String(tc.field)}},
			})
			g.Expect(errors.As(err, &nf)).To(BeTrue(), "error %v", err)
			g.Expect(aws.ToString(nf.ResourceType)).To(Equal(tc.wantType))
		})
	}
}

func TestGetCasePagesWithNextToken(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t, func(o *Options) { o.GetCasePageSize = 2 })
	ctx := context.Background()
	in := &connectcases.GetCaseInput{DomainId: aws.String("d1"), CaseId: aws.String("c1"), Fields: []types.FieldIdentifier{
		{Id: aws.String("score")}, {Id: aws.String("owner")}, {Id: aws.String("priority")}, {Id: aws.String("summary")},
	}}
	first, err := e.client.GetCase(ctx, in)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(first.Fields).To(HaveLen(2))
	g.Expect(aws.ToString(first.Fields[0].Id)).To(Equal("score"))
	g.Expect(aws.ToString(first.Fields[1].Id)).To(Equal("priority"))
	g.Expect(first.NextToken).NotTo(BeNil())

	in.NextToken = first.NextToken
	second, err := e.client.GetCase(ctx, in)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(second.Fields).To(HaveLen(1))
	g.Expect(aws.ToString(second.Fields[0].Id)).To(Equal("summary"))
	g.Expect(second.NextToken).To(BeNil())

	in.NextToken = aws.String("garbage")
	_, err = e.client.GetCase(ctx, in)
	var ve *types.ValidationException
	g.Expect(errors.As(err, &ve)).To(BeTrue(), "error %v", err)
	g.Expect(ve.ErrorMessage()).To(ContainSubstring("nextToken"))
}

func TestCreateCase(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	ctx := context.Background()
	out, err := e.client.CreateCase(ctx, &connectcases.CreateCaseInput{
		DomainId: aws.String("d1"), TemplateId: aws.String("t1"), ClientToken: aws.String("token-1"),
		Fields: []types.FieldValue{entry("summary", str("new")), entry("priority", str("high"))},
	})
	g.Expect(err).NotTo(HaveOccurred())
	id := aws.ToString(out.CaseId)
	g.Expect(aws.ToString(out.CaseArn)).To(Equal("arn:aws:cases:us-east-1:123456789012:domain/d1/case/" + id))
	g.Expect(e.caseValues(t, "d1", id, "summary", "priority")).To(Equal(map[string]types.FieldValueUnion{
		"summary": str("new"), "priority": str("high"),
	}))

	again, err := e.client.CreateCase(ctx, &connectcases.CreateCaseInput{
		DomainId: aws.String("d1"), TemplateId: aws.String("t1"), ClientToken: aws.String("token-1"),
		Fields: []types.FieldValue{entry("summary", str("new"))},
	})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(aws.ToString(again.CaseId)).To(Equal(id), "a repeated clientToken returns the first case")
}

func TestCreateCaseErrors(t *testing.T) {
	tests := map[string]struct {
		template string
		fields   []types.FieldValue
		code     string
		contains string
	}{
		"required field missing":  {"t1", []types.FieldValue{entry("score", num(1))}, "ValidationException", "'summary' is required"},
		"required field emptied":  {"t1", []types.FieldValue{entry("summary", empty())}, "ValidationException", "'summary' is required"},
		"unknown template":        {"nope", nil, "ResourceNotFoundException", "Template nope"},
		"inactive template":       {"t-off", nil, "ValidationException", "Active"},
		"value does not fit":      {"t1", []types.FieldValue{entry("summary", str("s")), entry("score", boolean(true))}, "ValidationException", "'score'"},
		"field not in the domain": {"t1", []types.FieldValue{entry("summary", str("s")), entry("ghost", str("x"))}, "ResourceNotFoundException", "Field ghost"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			e := newEnv(t)
			fields := tc.fields
			if fields == nil {
				fields = []types.FieldValue{entry("summary", str("s"))}
			}
			_, err := e.client.CreateCase(context.Background(), &connectcases.CreateCaseInput{
				DomainId: aws.String("d1"), TemplateId: aws.String(tc.template), Fields: fields,
			})
			g.Expect(apiCode(err)).To(Equal(tc.code), "error %v", err)
			g.Expect(err.Error()).To(ContainSubstring(tc.contains))
			g.Expect(e.srv.State().Domains[0].Cases).To(HaveLen(2), "a failed create stores nothing")
		})
	}
}
