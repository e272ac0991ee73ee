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

func TestDomains(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	ctx := context.Background()

	created, err := e.client.CreateDomain(ctx, &connectcases.CreateDomainInput{Name: aws.String("Fresh")})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(created.DomainStatus).To(Equal(types.DomainStatusActive))
	id := aws.ToString(created.DomainId)
	g.Expect(aws.ToString(created.DomainArn)).To(Equal("arn:aws:cases:us-east-1:123456789012:domain/" + id))

	got, err := e.client.GetDomain(ctx, &connectcases.GetDomainInput{DomainId: aws.String(id)})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(aws.ToString(got.Name)).To(Equal("Fresh"))
	g.Expect(got.CreatedTime).NotTo(BeNil())
	g.Expect(got.CreatedTime.Unix()).To(Equal(e.now.Unix()))

	_, err = e.client.CreateDomain(ctx, &connectcases.CreateDomainInput{Name: aws.String("Fresh")})
	var ce *types.ConflictException
	g.Expect(errors.As(err, &ce)).To(BeTrue(), "error %v", err)

	var names []string
	p := connectcases.NewListDomainsPaginator(e.client, &connectcases.ListDomainsInput{MaxResults: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(len(page.Domains)).To(BeNumerically("<=", 2))
		for _, d := range page.Domains {
			names = append(names, aws.ToString(d.Name))
		}
		pages++
	}
	g.Expect(names).To(Equal([]string{"Test domain", "Other domain", "Fresh"}))
	g.Expect(pages).To(Equal(2))

	_, err = e.client.GetDomain(ctx, &connectcases.GetDomainInput{DomainId: aws.String("missing")})
	var nf *types.ResourceNotFoundException
	g.Expect(errors.As(err, &nf)).To(BeTrue(), "error %v", err)
	g.Expect(aws.ToString(nf.ResourceType)).To(Equal("Domain"))
}

func TestFields(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	ctx := context.Background()

	created, err := e.client.CreateField(ctx, &connectcases.CreateFieldInput{
		DomainId: aws.String("d1"), Name: aws.String("Notes"), Type: types.FieldTypeText, Description: aws.String("Free text"),
		Attributes: &types.FieldAttributesMemberText{Value: types.TextAttributes{IsMultiline: aws.Bool(true)}},
	})
	g.Expect(err).NotTo(HaveOccurred())
	id := aws.ToString(created.FieldId)

	_, err = e.client.CreateField(ctx, &connectcases.CreateFieldInput{DomainId: aws.String("d1"), Name: aws.String("Notes"), Type: types.FieldTypeText})
	g.Expect(apiCode(err)).To(Equal("ConflictException"))

	var ids []string
	p := connectcases.NewListFieldsPaginator(e.client, &connectcases.ListFieldsInput{DomainId: aws.String("d1"), MaxResults: aws.Int32(3)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(len(page.Fields)).To(BeNumerically("<=", 3))
		for _, f := range page.Fields {
			ids = append(ids, aws.ToString(f.FieldId))
			g.Expect(f.Namespace).To(Equal(types.FieldNamespaceCustom))
		}
	}
	g.Expect(ids).To(Equal([]string{"priority", "escalated", "score", "summary", "owner", "due", "link", id}))

	batch, err := e.client.BatchGetField(ctx, &connectcases.BatchGetFieldInput{DomainId: aws.String("d1"), Fields: []types.FieldIdentifier{
		{Id: aws.String("priority")}, {Id: aws.String("ghost")}, {Id: aws.String(id)},
	}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(batch.Fields).To(HaveLen(2))
	g.Expect(aws.ToString(batch.Fields[0].Name)).To(Equal("Priority"))
	g.Expect(batch.Fields[0].Type).To(Equal(types.FieldTypeSingleSelect))
	g.Expect(aws.ToString(batch.Fields[1].Description)).To(Equal("Free text"))
	g.Expect(batch.Fields[1].Attributes).To(Equal(&types.FieldAttributesMemberText{Value: types.TextAttributes{IsMultiline: aws.Bool(true)}}))
	g.Expect(batch.Errors).To(HaveLen(1))
	g.Expect(aws.ToString(batch.Errors[0].Id)).To(Equal("ghost"))
	g.Expect(aws.ToString(batch.Errors[0].ErrorCode)).To(Equal("ResourceNotFoundException"))
}

func TestFieldOptions(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	ctx := context.Background()

	_, err := e.client.BatchPutFieldOptions(ctx, &connectcases.BatchPutFieldOptionsInput{
		DomainId: aws.String("d1"), FieldId: aws.String("priority"),
		Options: []types.FieldOption{
			{Name: aws.String("Urgent"), Value: aws.String("urgent"), Active: aws.Bool(true)},
			{Name: aws.String("Low"), Value: aws.String("low"), Active: aws.Bool(false)},
		},
	})
	g.Expect(err).NotTo(HaveOccurred())

	var values []string
	var active []bool
	p := connectcases.NewListFieldOptionsPaginator(e.client, &connectcases.ListFieldOptionsInput{
		DomainId: aws.String("d1"), FieldId: aws.String("priority"), MaxResults: aws.Int32(2),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		g.Expect(err).NotTo(HaveOccurred())
		for _, o := range page.Options {
			values = append(values, aws.ToString(o.Value))
			active = append(active, aws.ToBool(o.Active))
		}
	}
	g.Expect(values).To(Equal([]string{"high", "low", "old", "urgent"}))
	g.Expect(active).To(Equal([]bool{true, false, false, true}))

	one, err := e.client.ListFieldOptions(ctx, &connectcases.ListFieldOptionsInput{
		DomainId: aws.String("d1"), FieldId: aws.String("priority"), Values: []string{"urgent"},
	})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(one.Options).To(HaveLen(1))

	_, err = e.client.UpdateCase(ctx, &connectcases.UpdateCaseInput{DomainId: aws.String("d1"), CaseId: aws.String("c1"),
		Fields: []types.FieldValue{entry("priority", str("low"))}})
	g.Expect(apiCode(err)).To(Equal("ValidationException"), "a deactivated option is refused")
	_, err = e.client.UpdateCase(ctx, &connectcases.UpdateCaseInput{DomainId: aws.String("d1"), CaseId: aws.String("c1"),
		Fields: []types.FieldValue{entry("priority", str("urgent"))}})
	g.Expect(err).NotTo(HaveOccurred())

	_, err = e.client.BatchPutFieldOptions(ctx, &connectcases.BatchPutFieldOptionsInput{
		DomainId: aws.String("d1"), FieldId: aws.String("summary"),
		Options: []types.FieldOption{{Name: aws.String("A"), Value: aws.String("a"), Active: aws.Bool(true)}},
	})
	g.Expect(apiCode(err)).To(Equal("ValidationException"), "only SingleSelect fields have options")

	_, err = e.client.ListFieldOptions(ctx, &connectcases.ListFieldOptionsInput{DomainId: aws.String("d1"), FieldId: aws.String("ghost")})
	var nf *types.ResourceNotFoundException
	g.Expect(errors.As(err, &nf)).To(BeTrue(), "error %v", err)
	g.Expect(aws.ToString(nf.ResourceType)).To(Equal("Field"))
}

func TestCreateTemplateHonoursRequiredFields(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	ctx := context.Background()

	out, err := e.client.CreateTemplate(ctx, &connectcases.CreateTemplateInput{
		DomainId: aws.String("d1"), Name: aws.String("Scored"),
		RequiredFields: []types.RequiredField{{FieldId: aws.String("score")}},
	})
	g.Expect(err).NotTo(HaveOccurred())
	tid := aws.ToString(out.TemplateId)
	g.Expect(aws.ToString(out.TemplateArn)).To(HaveSuffix("/template/" + tid))

	_, err = e.client.CreateCase(ctx, &connectcases.CreateCaseInput{DomainId: aws.String("d1"), TemplateId: aws.String(tid),
		Fields: []types.FieldValue{entry("summary", str("no score"))}})
	g.Expect(apiCode(err)).To(Equal("ValidationException"))
	g.Expect(err.Error()).To(ContainSubstring("'score' is required"))

	created, err := e.client.CreateCase(ctx, &connectcases.CreateCaseInput{DomainId: aws.String("d1"), TemplateId: aws.String(tid),
		Fields: []types.FieldValue{entry("score", num(3))}})
	g.Expect(err).NotTo(HaveOccurred())
	_, err = e.client.UpdateCase(ctx, &connectcases.UpdateCaseInput{DomainId: aws.String("d1"), CaseId: created.CaseId,
		Fields: []types.FieldValue{entry("score", empty())}})
	g.Expect(apiCode(err)).To(Equal("ValidationException"))

	_, err = e.client.CreateTemplate(ctx, &connectcases.CreateTemplateInput{DomainId: aws.String("d1"), Name: aws.String("Ghostly"),
		RequiredFields: []types.RequiredField{{FieldId: aws.String("ghost")}}})
	var nf *types.ResourceNotFoundException
	g.Expect(errors.As(err, &nf)).To(BeTrue(), "error %v", err)
	g.Expect(aws.ToString(nf.ResourceType)).To(Equal("Field"))

	_, err = e.client.CreateTemplate(ctx, &connectcases.CreateTemplateInput{DomainId: aws.String("d1"), Name: aws.String("Scored")})
	g.Expect(apiCode(err)).To(Equal("ConflictException"))
}

func TestSearchCases(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	ctx := context.Background()

	out, err := e.client.SearchCases(ctx, &connectcases.SearchCasesInput{
		DomainId: aws.String("d1"),
		Filter:   &types.CaseFilterMemberField{Value: &types.FieldFilterMemberEqualTo{Value: entry("priority", str("low"))}},
		Fields:   []types.FieldIdentifier{{Id: aws.String("summary")}},
	})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out.TotalCount).To(Equal(int64(1)))
	g.Expect(out.Cases).To(HaveLen(1))
	g.Expect(aws.ToString(out.Cases[0].CaseId)).To(Equal("c2"))
	g.Expect(out.Cases[0].Fields).To(Equal([]types.FieldValue{entry("summary", str("second case"))}))

	out, err = e.client.SearchCases(ctx, &connectcases.SearchCasesInput{
		DomainId: aws.String("d1"), MaxResults: aws.Int32(1),
		Sorts: []types.Sort{{FieldId: aws.String("summary"), SortOrder: types.OrderDescending}},
	})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(aws.ToString(out.Cases[0].CaseId)).To(Equal("c2"))
	g.Expect(out.NextToken).NotTo(BeNil())

	out, err = e.client.SearchCases(ctx, &connectcases.SearchCasesInput{DomainId: aws.String("d1"), SearchTerm: aws.String("FIRST")})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out.Cases).To(HaveLen(1))
	g.Expect(aws.ToString(out.Cases[0].CaseId)).To(Equal("c1"))
}
