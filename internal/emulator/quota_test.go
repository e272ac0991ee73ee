package emulator

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	. "github.com/onsi/gomega"
)

func TestUpdateCaseIsThrottledAtDefaultQuota(t *testing.T) {
	g := NewWithT(t)
	second := Principal{AccessKeyID: "AKIDSECOND", SecretAccessKey: "s", Actions: []string{"*"}, Domains: []string{"*"}}
	e := newEnv(t, func(o *Options) { o.Principals = append(o.Principals, second) }) // the clock does not move
	g.Expect(e.srv.Quotas()["UpdateCase"]).To(Equal(Quota{RPS: 2, Burst: 2}))

	ok, throttled := 0, 0
	for i := range 20 {
		_, err := e.client.UpdateCase(context.Background(), &connectcases.UpdateCaseInput{
			DomainId: aws.String("d1"), CaseId: aws.String("c1"), Fields: []types.FieldValue{entry("score", num(float64(i)))},
		})
		var te *types.ThrottlingException
		switch {
		case err == nil:
			ok++
		case errors.As(err, &te):
			throttled++
			g.Expect(te.ErrorMessage()).To(Equal("Rate exceeded"))
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	g.Expect(ok).To(Equal(2))
	g.Expect(throttled).To(Equal(18))
	g.Expect(e.srv.CallCount("UpdateCase", "ThrottlingException")).To(Equal(18))
	stored, _ := e.srv.CaseFields("d1", "c1")
	g.Expect(stored["score"]).To(Equal(DoubleValue(1)), "throttled calls change nothing")

	// Another principal has its own bucket.
	_, err := e.clientFor("AKIDSECOND", "s").UpdateCase(context.Background(), &connectcases.UpdateCaseInput{
		DomainId: aws.String("d1"), CaseId: aws.String("c1"), Fields: []types.FieldValue{entry("score", num(100))},
	})
	g.Expect(err).NotTo(HaveOccurred())
}

func TestQuotaIsConfigurable(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t, func(o *Options) { o.Quotas = map[string]Quota{"GetDomain": {RPS: 1, Burst: 3}} })
	get := func() error {
		_, err := e.client.GetDomain(context.Background(), &connectcases.GetDomainInput{DomainId: aws.String("d1")})
		return err
	}
	for range 3 {
		g.Expect(get()).To(Succeed())
	}
	g.Expect(apiCode(get())).To(Equal("ThrottlingException"))

	e.srv.SetQuota("GetDomain", Quota{})
	for range 30 {
		g.Expect(get()).To(Succeed(), "an RPS of zero disables the quota")
	}

	_, err := New(Options{Region: testRegion, Quotas: map[string]Quota{"DeleteCase": {RPS: 1}}})
	g.Expect(err).To(MatchError(ContainSubstring("DeleteCase")))
}

func TestTokenBucketRefills(t *testing.T) {
	g := NewWithT(t)
	qs, err := newQuotaSet(nil)
	g.Expect(err).NotTo(HaveOccurred())
	t0 := time.Unix(1000, 0)
	steps := []struct {
		at   time.Duration
		want bool
	}{
		{0, true}, {0, true}, {0, false}, // burst of 2
		{250 * time.Millisecond, false}, // half a token
		{500 * time.Millisecond, true},  // one token at 2 rps
		{500 * time.Millisecond, false},
		{10 * time.Second, true}, {10 * time.Second, true}, {10 * time.Second, false}, // capped at the burst
	}
	for i, s := range steps {
		g.Expect(qs.allow("k", "UpdateCase", t0.Add(s.at))).To(Equal(s.want), "step %d", i)
	}
	g.Expect(DefaultQuota("GetCase")).To(Equal(Quota{RPS: 4, Burst: 10}))
	g.Expect(DefaultQuota("ListFields")).To(Equal(Quota{RPS: 10, Burst: 10}))
}
