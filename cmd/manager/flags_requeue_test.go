package main

import (
	"testing"

	. "github.com/onsi/gomega"

	"github.com/connectcases-operator/connectcases-operator/controllers"
)

func TestParseFlagsRequeueOnFailure(t *testing.T) {
	tests := map[string]struct {
		args    []string
		want    string
		wantErr bool
	}{
		"default":            {want: string(controllers.RequeueBackoff)},
		"controller-runtime": {args: []string{"--requeue-on-failure=controller-runtime"}, want: string(controllers.RequeueRateLimiter)},
		"unknown":            {args: []string{"--requeue-on-failure=never"}, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			o, err := parseFlags(tc.args)
			if tc.wantErr {
				g.Expect(err).To(MatchError(ContainSubstring("--requeue-on-failure")))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(o.requeueOnFailure).To(Equal(tc.want))
		})
	}
}
