package connections

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/cases"
	"github.com/connectcases-operator/connectcases-operator/internal/emulator"
)

// testSeed has the operator's user in one account and a role in another.
const testSeed = `
principals:
- {accessKeyId: AKIDLEGACY, secretAccessKey: legacy-secret, actions: ["*"], domains: ["*"]}
domains:
- id: d1
  name: Domain
  fields: [{id: summary, name: Summary, type: Text}]
  templates: [{id: t1, name: Default}]
  cases: [{id: c1, templateId: t1}]
accounts:
- id: "111111111111"
  users: [{name: operator, accessKeyId: AKIDBASE, secretAccessKey: base-secret}]
- id: "222222222222"
  roles:
  - {name: writer, trust: [{principals: ["111111111111"], externalId: ext}], actions: ["cases:*"], domains: [d1]}
`

const (
	region  = "us-east-1"
	roleARN = "arn:aws:iam::222222222222:role/writer"
)

// newRegistry starts the emulator and returns a registry whose base
// identity is the seeded user, and the emulator's URL.
func newRegistry(t *testing.T) (*Registry, string) {
	t.Helper()
	seed, err := emulator.ParseSeed([]byte(testSeed))
	if err != nil {
		t.Fatal(err)
	}
	emu, err := emulator.New(emulator.Options{Region: region, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	base := aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider("AKIDBASE", "base-secret", ""),
		Retryer: func() aws.Retryer { return aws.NopRetryer{} }}
	return NewRegistry(Options{Base: base, Limits: cases.DefaultLimits}), srv.URL
}

// connection returns a CasesConnection to the emulator.
func connection(name, url string, role *casesv1alpha1.AssumeRoleSpec) *casesv1alpha1.CasesConnection {
	return &casesv1alpha1.CasesConnection{
		ObjectMeta: metav1.ObjectMeta{Name: name, Generation: 1},
		Spec: casesv1alpha1.CasesConnectionSpec{Region: region, AssumeRole: role, Domains: []string{"*"},
			Endpoints: &casesv1alpha1.ConnectionEndpoints{ConnectCases: url, STS: url}},
	}
}

func TestCheck(t *testing.T) {
	tests := map[string]struct {
		role        *casesv1alpha1.AssumeRoleSpec
		wantARN     string
		wantAccount string
		wantErr     string
	}{
		"own identity":        {wantARN: "arn:aws:iam::111111111111:user/operator", wantAccount: "111111111111"},
		"assumed role":        {role: &casesv1alpha1.AssumeRoleSpec{RoleARN: roleARN, ExternalID: "ext"}, wantARN: "arn:aws:sts::222222222222:assumed-role/writer/connectcases-operator-conn", wantAccount: "222222222222"},
		"custom session":      {role: &casesv1alpha1.AssumeRoleSpec{RoleARN: roleARN, ExternalID: "ext", SessionName: "audit"}, wantARN: "arn:aws:sts::222222222222:assumed-role/writer/audit", wantAccount: "222222222222"},
		"wrong external id":   {role: &casesv1alpha1.AssumeRoleSpec{RoleARN: roleARN, ExternalID: "other"}, wantErr: "AccessDenied"},
		"role that is absent": {role: &casesv1alpha1.AssumeRoleSpec{RoleARN: "arn:aws:iam::222222222222:role/none"}, wantErr: "AccessDenied"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			reg, url := newRegistry(t)
			conn := reg.Ensure(connection("conn", url, tc.role))
			id, err := reg.Check(context.Background(), conn)
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
				_, known := reg.Account("conn")
				g.Expect(known).To(BeFalse())
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(id.ARN).To(Equal(tc.wantARN))
			g.Expect(id.Account).To(Equal(tc.wantAccount))
			account, _ := reg.Account("conn")
			g.Expect(account).To(Equal(tc.wantAccount))
			if tc.role != nil {
				g.Expect(id.Expires).To(BeTemporally("~", time.Now().Add(15*time.Minute), time.Minute), "the real expiry (the SDK asks for 15 minutes), not the refresh time")
			}
		})
	}
}

// TestEnsureRebuildsOnSpecChange keeps a connection's clients while its spec
// is unchanged, and builds new ones (new limiter, no account yet) when it
// changes.
func TestEnsureRebuildsOnSpecChange(t *testing.T) {
	g := NewWithT(t)
	reg, url := newRegistry(t)
	obj := connection("conn", url, &casesv1alpha1.AssumeRoleSpec{RoleARN: roleARN, ExternalID: "ext"})
	obj.Spec.RateLimits = map[string]casesv1alpha1.RateLimit{"UpdateCase": {RPS: 5, Burst: 5}}
	first := reg.Ensure(obj)
	_, err := reg.Check(context.Background(), first)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(first.Limiter).NotTo(BeNil(), "rateLimits give the connection its own limiter")
	g.Expect(first.Limiter.Rate("UpdateCase")).To(BeNumerically("==", 5))

	obj.Generation = 2
	g.Expect(reg.Ensure(obj)).To(BeIdenticalTo(first), "a new generation with the same spec keeps the clients")

	obj.Generation = 3
	obj.Spec.RateLimits["UpdateCase"] = casesv1alpha1.RateLimit{RPS: 1, Burst: 1}
	second := reg.Ensure(obj)
	g.Expect(second).NotTo(BeIdenticalTo(first))
	g.Expect(second.Limiter.Rate("UpdateCase")).To(BeNumerically("==", 1))
	_, known := reg.Account("conn")
	g.Expect(known).To(BeFalse(), "the account of a rebuilt connection is checked again")

	reg.Remove("conn")
	_, ok := reg.Get("conn")
	g.Expect(ok).To(BeFalse())
}

// TestConnectionLabel counts a connection's calls under its name in
// connectcases_api_requests_total.
func TestConnectionLabel(t *testing.T) {
	g := NewWithT(t)
	reg, url := newRegistry(t)
	conn := reg.Ensure(connection("team-b-label", url, &casesv1alpha1.AssumeRoleSpec{RoleARN: roleARN, ExternalID: "ext"}))
	_, err := conn.Cases.UpdateCase(context.Background(), &connectcases.UpdateCaseInput{
		DomainId: aws.String("d1"), CaseId: aws.String("c1"),
		Fields: []types.FieldValue{{Id: aws.String("summary"), Value: &types.FieldValueUnionMemberStringValue{Value: "x"}}},
	})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(requests(g, "UpdateCase", "team-b-label")).To(BeNumerically("==", 1))
}

// requests reads connectcases_api_requests_total of an operation and a
// connection, over every code.
func requests(g Gomega, operation, connection string) float64 {
	families, err := ctrlmetrics.Registry.Gather()
	g.Expect(err).NotTo(HaveOccurred())
	total := 0.0
	for _, f := range families {
		if f.GetName() != "connectcases_api_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["operation"] == operation && labels["connection"] == connection {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return total
}
