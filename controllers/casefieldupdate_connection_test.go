package controllers

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/connections"
	"github.com/connectcases-operator/connectcases-operator/internal/emulator"
)

func TestAuthorize(t *testing.T) {
	team := map[string]string{"team": "a", "kubernetes.io/metadata.name": "payments"}
	tests := map[string]struct {
		selector *metav1.LabelSelector
		domains  []string
		labels   map[string]string
		domain   string
		want     string // "" when permitted, else a part of the message
	}{
		"selected and listed":   {selector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}}, domains: []string{"d1"}, labels: team, domain: "d1"},
		"any domain":            {selector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}}, domains: []string{"*"}, labels: team, domain: "d9"},
		"empty selector":        {selector: &metav1.LabelSelector{}, domains: []string{"d1"}, labels: nil, domain: "d1"},
		"by namespace name":     {selector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "payments"}}, domains: []string{"d1"}, labels: team, domain: "d1"},
		"no selector":           {domains: []string{"d1"}, labels: team, domain: "d1", want: "has no namespaceSelector"},
		"other team":            {selector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "b"}}, domains: []string{"d1"}, labels: team, domain: "d1", want: `does not serve namespace "payments"`},
		"domain not listed":     {selector: &metav1.LabelSelector{}, domains: []string{"d1", "d2"}, labels: team, domain: "d3", want: `does not serve domain "d3"`},
		"pattern is not a glob": {selector: &metav1.LabelSelector{}, domains: []string{"d*"}, labels: team, domain: "d1", want: `does not serve domain "d1"`},
		"invalid selector": {selector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "team", Operator: "Bogus"}}},
			domains: []string{"*"}, labels: team, domain: "d1", want: "invalid namespaceSelector"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			conn := &casesv1alpha1.CasesConnection{ObjectMeta: metav1.ObjectMeta{Name: "team-a"},
				Spec: casesv1alpha1.CasesConnectionSpec{NamespaceSelector: tc.selector, Domains: tc.domains}}
			o := authorize(conn, "payments", tc.labels, tc.domain)
			if tc.want == "" {
				g.Expect(o).To(BeNil())
				return
			}
			g.Expect(o).NotTo(BeNil())
			g.Expect(o.Reason).To(Equal(casesv1alpha1.NotPermittedReason))
			g.Expect(o.Stalled()).To(BeTrue())
			g.Expect(o.Message).To(ContainSubstring(tc.want))
		})
	}
}

// TestClassifyConnectionError checks the connection's reasons on the errors
// the SDK really returns, from the emulator's STS or from no answer at all.
func TestClassifyConnectionError(t *testing.T) {
	seed, err := emulator.ParseSeed([]byte(connectionSeed))
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	emu, err := emulator.New(emulator.Options{Region: testRegion, Seed: seed})
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	closed := httptest.NewServer(nil)
	closed.Close()

	tests := map[string]struct {
		key, secret string
		role        *casesv1alpha1.AssumeRoleSpec
		endpoint    string
		want        string
		stalled     bool
	}{
		"wrong external id":      {key: baseUserKey, secret: baseUserSecret, role: &casesv1alpha1.AssumeRoleSpec{RoleARN: roleB, ExternalID: "wrong"}, want: casesv1alpha1.AssumeRoleFailedReason, stalled: true},
		"role not trusting":      {key: baseUserKey, secret: baseUserSecret, role: &casesv1alpha1.AssumeRoleSpec{RoleARN: "arn:aws:iam::222222222222:role/absent"}, want: casesv1alpha1.AssumeRoleFailedReason, stalled: true},
		"unknown base key":       {key: "AKIDNOBODY", secret: "x", want: casesv1alpha1.InvalidCredentialsReason, stalled: true},
		"STS does not answer":    {key: baseUserKey, secret: baseUserSecret, role: &casesv1alpha1.AssumeRoleSpec{RoleARN: roleA}, endpoint: closed.URL, want: casesv1alpha1.NetworkErrorReason},
		"no answer without role": {key: baseUserKey, secret: baseUserSecret, endpoint: closed.URL, want: casesv1alpha1.NetworkErrorReason},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			endpoint := srv.URL
			if tc.endpoint != "" {
				endpoint = tc.endpoint
			}
			base := aws.Config{Region: testRegion, Credentials: credentials.NewStaticCredentialsProvider(tc.key, tc.secret, ""),
				Retryer: func() aws.Retryer { return aws.NopRetryer{} }}
			reg := connections.NewRegistry(connections.Options{Base: base})
			conn := reg.Ensure(&casesv1alpha1.CasesConnection{ObjectMeta: metav1.ObjectMeta{Name: "c"},
				Spec: casesv1alpha1.CasesConnectionSpec{Region: testRegion, AssumeRole: tc.role, Domains: []string{"*"},
					Endpoints: &casesv1alpha1.ConnectionEndpoints{ConnectCases: endpoint, STS: endpoint}}})
			_, err := reg.Check(context.Background(), conn)
			g.Expect(err).To(HaveOccurred())
			o := classifyConnectionError(err)
			g.Expect(o.Reason).To(Equal(tc.want), "error: %v", err)
			g.Expect(o.Stalled()).To(Equal(tc.stalled))
		})
	}
}
