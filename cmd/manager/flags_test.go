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
	tests := map[string][]string{
		"unknown retry mode":  {"--aws-retry-mode", "adaptive"},
		"bad selector":        {"--label-selector", "a=(b"},
		"bad limit":           {"--aws-rps", "UpdateCase"},
		"no reconcile worker": {"--max-concurrent-reconciles", "0"},
	}
	for name, args := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := parseFlags(args)
			NewWithT(t).Expect(err).To(HaveOccurred())
		})
	}
}
