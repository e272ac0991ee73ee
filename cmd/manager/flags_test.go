package main

import (
	"testing"

	. "github.com/onsi/gomega"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/cases"
)

func TestParseFlags(t *testing.T) {
	g := NewWithT(t)
	o, err := parseFlags([]string{"--watch-namespaces", "team-a, team-b", "--label-selector", "shard=a",
		"--aws-rps", "UpdateCase=20", "--aws-burst", "UpdateCase=40", "--aws-retry-mode", "sdk-default"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(o.watchNamespaces).To(Equal([]string{"team-a", "team-b"}))
	g.Expect(o.awsLimits["UpdateCase"]).To(Equal(cases.Limit{RPS: 20, Burst: 40}))
	g.Expect(o.awsLimits["GetCase"]).To(Equal(cases.DefaultLimits["GetCase"]))
	g.Expect(o.awsClientRateLimit).To(BeTrue())

	opts := cacheOptions(o)
	g.Expect(opts.DefaultNamespaces).To(HaveLen(2))
	g.Expect(opts.DefaultNamespaces).To(HaveKey("team-b"))
	g.Expect(opts.ByObject).To(HaveLen(1))
	for obj, by := range opts.ByObject {
		g.Expect(obj).To(BeAssignableToTypeOf(&casesv1alpha1.CaseFieldUpdate{}))
		g.Expect(by.Label.String()).To(Equal("shard=a"))
	}
}

func TestParseFlagsRejectsBadValues(t *testing.T) {
	tests := map[string]struct {
		args []string
		want string
	}{
		"unknown retry mode":        {[]string{"--aws-retry-mode", "adaptive"}, "--aws-retry-mode"},
		"bad selector":              {[]string{"--label-selector", "a=(b"}, "--label-selector"},
		"bad limit":                 {[]string{"--aws-rps", "UpdateCase"}, "--aws-rps"},
		"rate NaN":                  {[]string{"--aws-rps", "UpdateCase=NaN"}, "--aws-rps"},
		"rate infinite":             {[]string{"--aws-rps", "UpdateCase=Inf"}, "--aws-rps"},
		"rate negative":             {[]string{"--aws-rps", "GetCase=-4"}, "--aws-rps"},
		"burst NaN":                 {[]string{"--aws-burst", "UpdateCase=NaN"}, "--aws-burst"},
		"burst infinite":            {[]string{"--aws-burst", "UpdateCase=-Inf"}, "--aws-burst"},
		"burst fractional":          {[]string{"--aws-burst", "UpdateCase=1.5"}, "--aws-burst"},
		"no reconcile worker":       {[]string{"--max-concurrent-reconciles", "0"}, "--max-concurrent-reconciles"},
		"no attempt":                {[]string{"--aws-max-attempts", "0"}, "--aws-max-attempts"},
		"negative attempts":         {[]string{"--aws-max-attempts", "-1"}, "--aws-max-attempts"},
		"zero call timeout":         {[]string{"--aws-call-timeout", "0s"}, "--aws-call-timeout"},
		"negative call timeout":     {[]string{"--aws-call-timeout", "-5s"}, "--aws-call-timeout"},
		"negative stalled interval": {[]string{"--stalled-retry-interval", "-1m"}, "--stalled-retry-interval"},
		"zero max backoff":          {[]string{"--max-backoff", "0s"}, "--max-backoff"},
		"negative field cache TTL":  {[]string{"--field-cache-ttl", "-10m"}, "--field-cache-ttl"},
		"zero lease duration":       {[]string{"--leader-election-lease-duration", "0s"}, "--leader-election-lease-duration"},
		"negative renew deadline":   {[]string{"--leader-election-renew-deadline", "-1s"}, "--leader-election-renew-deadline"},
		"zero retry period":         {[]string{"--leader-election-retry-period", "0s"}, "--leader-election-retry-period"},
		"renew deadline beyond the lease": {[]string{"--leader-elect", "--leader-election-lease-duration", "10s",
			"--leader-election-renew-deadline", "15s"}, "--leader-election-renew-deadline"},
		"retry period beyond the renew deadline": {[]string{"--leader-elect", "--leader-election-renew-deadline", "10s",
			"--leader-election-retry-period", "9s"}, "--leader-election-retry-period"},
		"a number that is no number": {[]string{"--max-concurrent-reconciles", "NaN"}, "max-concurrent-reconciles"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := parseFlags(tc.args)
			NewWithT(t).Expect(err).To(MatchError(ContainSubstring(tc.want)))
		})
	}
}

func TestParseFlagsTakesTheDefaults(t *testing.T) {
	g := NewWithT(t)
	_, err := parseFlags(nil)
	g.Expect(err).NotTo(HaveOccurred())
	_, err = parseFlags([]string{"--leader-elect"})
	g.Expect(err).NotTo(HaveOccurred(), "the default lease settings are consistent")
}
