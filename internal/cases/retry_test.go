package cases

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	. "github.com/onsi/gomega"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/connectcases-operator/connectcases-operator/internal/emulator"
)

// getDomain calls GetDomain of domain-a.
func getDomain(c *connectcases.Client) error {
	_, err := c.GetDomain(context.Background(), &connectcases.GetDomainInput{DomainId: aws.String("domain-a")})
	return err
}

func TestRetryAfter(t *testing.T) {
	tests := map[string]struct {
		fault          emulator.Fault
		opts           Options
		wantErr        bool
		wantCalls      int
		wantRetryAfter time.Duration
		// minGap is the least time between two attempts.
		minGap time.Duration
	}{
		"InternalServerException retried no sooner than its retryAfterSeconds": {
			fault:     emulator.Fault{Operation: "GetDomain", Kind: emulator.FaultInternalServer, Count: 1, RetryAfterSeconds: 1},
			opts:      Options{MaxBackoff: 2 * time.Second},
			wantCalls: 2,
			minGap:    time.Second,
		},
		"503 retried no sooner than its Retry-After": {
			fault:     emulator.Fault{Operation: "GetDomain", Kind: emulator.FaultServiceUnavailable, Count: 1, RetryAfterSeconds: 1},
			opts:      Options{MaxBackoff: 2 * time.Second},
			wantCalls: 2,
			minGap:    time.Second,
		},
		"InternalServerException asking for more than the retryer waits ends the call": {
			fault:          emulator.Fault{Operation: "GetDomain", Kind: emulator.FaultInternalServer, Count: 1, RetryAfterSeconds: 1},
			wantErr:        true,
			wantCalls:      1,
			wantRetryAfter: time.Second,
		},
		"503 asking for more than the retryer waits ends the call": {
			fault:          emulator.Fault{Operation: "GetDomain", Kind: emulator.FaultServiceUnavailable, Count: 3, RetryAfterSeconds: 2},
			wantErr:        true,
			wantCalls:      1,
			wantRetryAfter: 2 * time.Second,
		},
		"429 of another code carries its Retry-After": {
			fault:          emulator.Fault{Operation: "GetDomain", Kind: emulator.FaultTooManyRequests, Count: 3, RetryAfterSeconds: 3},
			wantErr:        true,
			wantCalls:      1,
			wantRetryAfter: 3 * time.Second,
		},
		"502 without Retry-After is retried at the retryer's pace": {
			fault:     emulator.Fault{Operation: "GetDomain", Kind: emulator.FaultBadGateway, Count: 3},
			wantErr:   true,
			wantCalls: DefaultMaxAttempts,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			e := newEnv(t)
			e.emu.SetFaults([]emulator.Fault{tc.fault})
			err := getDomain(e.client(tc.opts, ""))
			g.Expect(err != nil).To(Equal(tc.wantErr), "error: %v", err)
			g.Expect(RetryAfter(err)).To(Equal(tc.wantRetryAfter))
			calls := e.calls("GetDomain")
			g.Expect(calls).To(HaveLen(tc.wantCalls))
			for i := 1; i < len(calls); i++ {
				gap := calls[i].Time.Sub(calls[i-1].Time)
				t.Logf("Attempt %d came %s after attempt %d", i+1, gap, i)
				g.Expect(gap).To(BeNumerically(">=", tc.minGap), "attempt %d came too soon", i+1)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := map[string]struct {
		header string
		want   time.Duration
	}{
		"absent":           {"", 0},
		"seconds":          {"7", 7 * time.Second},
		"spaces":           {" 2 ", 2 * time.Second},
		"zero":             {"0", 0},
		"negative":         {"-3", 0},
		"HTTP date":        {now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		"date in the past": {now.Add(-time.Minute).Format(http.TimeFormat), 0},
		"garbage":          {"soon", 0},
		"bounded":          {"999999999999", MaxRetryAfter},
		"far date bounded": {now.Add(48 * time.Hour).Format(http.TimeFormat), MaxRetryAfter},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			NewWithT(t).Expect(parseRetryAfter(tc.header, now)).To(Equal(tc.want))
		})
	}
}

// throttledTotal reads connectcases_api_throttled_total of an operation.
func throttledTotal(g Gomega, operation string) float64 {
	families, err := ctrlmetrics.Registry.Gather()
	g.Expect(err).NotTo(HaveOccurred())
	for _, f := range families {
		if f.GetName() != "connectcases_api_throttled_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "operation" && l.GetValue() == operation {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// TestIsThrottle checks the one definition of a throttle on the answers the
// SDK really returns, and that the retryer (with NoThrottleRetries), the
// metrics and IsThrottle agree on each.
func TestIsThrottle(t *testing.T) {
	tests := map[string]struct {
		kind string // "" for no fault
		want bool
	}{
		"success":                   {kind: "", want: false},
		"ThrottlingException (429)": {kind: emulator.FaultThrottling, want: true},
		"429 with another code":     {kind: emulator.FaultTooManyRequests, want: true},
		"503 with an unmodelled code": {
			kind: emulator.FaultServiceUnavailable, want: false,
		},
		"InternalServerException (500)": {kind: emulator.FaultInternalServer, want: false},
		"502 HTML page":                 {kind: emulator.FaultBadGateway, want: false},
		"504 empty body":                {kind: emulator.FaultGatewayTimeout, want: false},
		"expired token (403)":           {kind: emulator.FaultExpiredToken, want: false},
		"connection reset":              {kind: emulator.FaultConnectionReset, want: false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			e := newEnv(t)
			if tc.kind != "" {
				e.emu.SetFaults([]emulator.Fault{{Operation: "GetDomain", Kind: tc.kind, Count: 1}})
			}
			before := throttledTotal(g, "GetDomain")
			err := getDomain(e.client(Options{MaxAttempts: 1}, ""))
			g.Expect(err != nil).To(Equal(tc.kind != ""), "error: %v", err)
			g.Expect(IsThrottle(err)).To(Equal(tc.want))
			throttledMetric := throttledTotal(g, "GetDomain") - before
			g.Expect(throttledMetric == 1).To(Equal(tc.want), "connectcases_api_throttled_total grew by %v", throttledMetric)
			if tc.kind != "" {
				g.Expect(noThrottleRetry(err) == aws.FalseTernary).To(Equal(tc.want), "the retryer vetoes exactly the throttles")
			}
		})
	}
}

func TestNoThrottleRetriesStopsEveryThrottle(t *testing.T) {
	tests := map[string]struct {
		kind      string
		wantCalls int
	}{
		"ThrottlingException":   {kind: emulator.FaultThrottling, wantCalls: 1},
		"429 with another code": {kind: emulator.FaultTooManyRequests, wantCalls: 1},
		"503 is still retried":  {kind: emulator.FaultServiceUnavailable, wantCalls: DefaultMaxAttempts},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			e := newEnv(t)
			e.emu.SetFaults([]emulator.Fault{{Operation: "GetDomain", Kind: tc.kind, Count: DefaultMaxAttempts}})
			err := getDomain(e.client(Options{NoThrottleRetries: true}, ""))
			g.Expect(err).To(HaveOccurred())
			g.Expect(e.calls("GetDomain")).To(HaveLen(tc.wantCalls))
		})
	}
}

// TestRetryAfterReadsTheModelledMember checks that RetryAfter reads the
// InternalServerException the SDK decodes, whose retryAfterSeconds is bound
// to the Retry-After header.
func TestRetryAfterReadsTheModelledMember(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	e.emu.SetFaults([]emulator.Fault{{Operation: "GetDomain", Kind: emulator.FaultInternalServer, Count: 1, RetryAfterSeconds: 4}})
	err := getDomain(e.client(Options{MaxAttempts: 1}, ""))
	var ise *types.InternalServerException
	g.Expect(errors.As(err, &ise)).To(BeTrue(), "error: %v", err)
	g.Expect(ise.RetryAfterSeconds).To(Equal(aws.Int32(4)))
	g.Expect(RetryAfter(err)).To(Equal(4 * time.Second))
	g.Expect(RetryAfter(nil)).To(BeZero())
}
