package emulator

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	. "github.com/onsi/gomega"
)

// update sets score through the SDK.
func (e *env) update(score float64) error {
	_, err := e.client.UpdateCase(context.Background(), &connectcases.UpdateCaseInput{
		DomainId: aws.String("d1"), CaseId: aws.String("c1"), Fields: []types.FieldValue{entry("score", num(score))},
	})
	return err
}

// unlimited lifts the quotas so that only faults fail calls.
func unlimited(o *Options) {
	o.Quotas = map[string]Quota{"UpdateCase": {}, "GetCase": {}, "GetDomain": {}}
}

// httpStatus returns the HTTP status of an SDK error, 0 without an answer.
func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// answer returns the status, request id and Retry-After header of the answer
// an SDK error carries.
func answer(err error) (status int, requestID, retryAfter string) {
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		return 0, "", ""
	}
	return re.HTTPStatusCode(), re.ServiceRequestID(), re.Response.Header.Get("Retry-After")
}

func TestCountedFaults(t *testing.T) {
	tests := map[string]struct {
		fault   Fault
		outcome string
		check   func(g *WithT, err error)
	}{
		"internal server error with Retry-After": {
			fault: Fault{Operation: "UpdateCase", Kind: FaultInternalServer, Count: 2, RetryAfterSeconds: 7},
			check: func(g *WithT, err error) {
				var ise *types.InternalServerException
				g.Expect(errors.As(err, &ise)).To(BeTrue(), "error %v", err)
				g.Expect(ise.RetryAfterSeconds).To(Equal(aws.Int32(7)))
			},
		},
		"internal server error without Retry-After": {
			fault: Fault{Operation: "*", Kind: FaultInternalServer, Count: 2},
			check: func(g *WithT, err error) {
				var ise *types.InternalServerException
				g.Expect(errors.As(err, &ise)).To(BeTrue(), "error %v", err)
				g.Expect(ise.RetryAfterSeconds).To(BeNil())
			},
		},
		"throttling": {
			fault: Fault{Operation: "UpdateCase", Kind: FaultThrottling, Count: 2},
			check: func(g *WithT, err error) {
				var te *types.ThrottlingException
				g.Expect(errors.As(err, &te)).To(BeTrue(), "error %v", err)
			},
		},
		"throttling with Retry-After": {
			fault: Fault{Operation: "UpdateCase", Kind: FaultThrottling, Count: 2, RetryAfterSeconds: 3},
			check: func(g *WithT, err error) {
				var te *types.ThrottlingException
				g.Expect(errors.As(err, &te)).To(BeTrue(), "error %v", err)
				_, _, retryAfter := answer(err)
				g.Expect(retryAfter).To(Equal("3"))
			},
		},
		"connection reset": {
			fault:   Fault{Operation: "UpdateCase", Kind: FaultConnectionReset, Count: 2},
			outcome: OutcomeConnectionReset,
			check: func(g *WithT, err error) {
				var send *smithyhttp.RequestSendError
				g.Expect(errors.As(err, &send)).To(BeTrue(), "a transport error, got %v", err)
				g.Expect(apiCode(err)).To(BeEmpty())
				g.Expect(httpStatus(err)).To(BeZero())
			},
		},
		"503 with a code the model does not list": {
			fault:   Fault{Operation: "UpdateCase", Kind: FaultServiceUnavailable, Count: 2, RetryAfterSeconds: 2},
			outcome: CodeServiceUnavailable,
			check: func(g *WithT, err error) {
				var generic *smithy.GenericAPIError
				g.Expect(errors.As(err, &generic)).To(BeTrue(), "an unmodelled error, got %T %v", err, err)
				g.Expect(generic.ErrorCode()).To(Equal(CodeServiceUnavailable))
				status, requestID, retryAfter := answer(err)
				g.Expect(status).To(Equal(503))
				g.Expect(requestID).NotTo(BeEmpty())
				g.Expect(retryAfter).To(Equal("2"))
			},
		},
		"502 with an HTML page": {
			fault:   Fault{Operation: "UpdateCase", Kind: FaultBadGateway, Count: 2},
			outcome: FaultBadGateway,
			check: func(g *WithT, err error) {
				var de *smithy.DeserializationError
				g.Expect(errors.As(err, &de)).To(BeTrue(), "the SDK cannot read an HTML body, got %T %v", err, err)
				g.Expect(string(de.Snapshot)).To(ContainSubstring("<title>502 Bad Gateway</title>"))
				status, requestID, _ := answer(err)
				g.Expect(status).To(Equal(502))
				g.Expect(requestID).To(BeEmpty(), "a proxy's answer has no AWS request id")
			},
		},
		"504 with an empty body": {
			fault:   Fault{Operation: "UpdateCase", Kind: FaultGatewayTimeout, Count: 2},
			outcome: FaultGatewayTimeout,
			check: func(g *WithT, err error) {
				g.Expect(apiCode(err)).To(Equal("UnknownError"), "the SDK's code for an answer without one")
				status, requestID, _ := answer(err)
				g.Expect(status).To(Equal(504))
				g.Expect(requestID).To(BeEmpty())
			},
		},
		"429 with another code": {
			fault:   Fault{Operation: "UpdateCase", Kind: FaultTooManyRequests, Count: 2},
			outcome: CodeTooManyRequests,
			check: func(g *WithT, err error) {
				g.Expect(apiCode(err)).To(Equal(CodeTooManyRequests))
				g.Expect(retry.DefaultThrottleErrorCodes).NotTo(HaveKey(CodeTooManyRequests), "only the status tells it is a throttle")
				g.Expect(httpStatus(err)).To(Equal(429))
			},
		},
		"expired token": {
			fault:   Fault{Operation: "UpdateCase", Kind: FaultExpiredToken, Count: 2},
			outcome: CodeExpiredToken,
			check: func(g *WithT, err error) {
				g.Expect(apiCode(err)).To(Equal(CodeExpiredToken))
				g.Expect(httpStatus(err)).To(Equal(403))
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			e := newEnv(t, unlimited, func(o *Options) { o.Faults = []Fault{tc.fault} })
			outcome := tc.outcome
			if outcome == "" {
				outcome = tc.fault.Kind
			}
			for i := range 2 {
				tc.check(g, e.update(float64(10+i)))
			}
			stored, _ := e.srv.CaseFields("d1", "c1")
			g.Expect(stored["score"]).To(Equal(DoubleValue(1.5)), "an injected fault never changes the store")
			g.Expect(e.update(3)).To(Succeed(), "the count is used up")
			g.Expect(e.srv.CallCount("UpdateCase", outcome)).To(Equal(2))
			g.Expect(e.srv.CallCount("UpdateCase", OutcomeOK)).To(Equal(1))
			g.Expect(e.srv.Faults()[0].Count).To(Equal(0))
		})
	}
}

func TestFaultsComeAfterAuthentication(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t, func(o *Options) {
		o.Faults = []Fault{{Operation: "UpdateCase", Kind: FaultInternalServer, Count: 1}}
	})
	err := func() error {
		_, err := e.clientFor(testKey, "wrong").UpdateCase(context.Background(), &connectcases.UpdateCaseInput{
			DomainId: aws.String("d1"), CaseId: aws.String("c1"), Fields: []types.FieldValue{entry("score", num(1))},
		})
		return err
	}()
	g.Expect(apiCode(err)).To(Equal("InvalidSignatureException"))
	g.Expect(apiCode(e.update(2))).To(Equal("InternalServerException"), "the refused call did not use the count")
}

// outcomes runs n UpdateCase calls and returns their error codes ("" for OK).
func outcomes(e *env, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = apiCode(e.update(float64(i)))
	}
	return out
}

func TestRateFaultsAreDeterministicUnderTheSeed(t *testing.T) {
	g := NewWithT(t)
	start := func(seed int64) *env {
		return newEnv(t, unlimited, func(o *Options) {
			o.RandomSeed = seed
			o.Faults = []Fault{{Operation: "UpdateCase", Kind: FaultThrottling, Rate: 0.5}}
		})
	}
	first := outcomes(start(42), 40)
	g.Expect(outcomes(start(42), 40)).To(Equal(first), "the same seed gives the same faults")
	g.Expect(outcomes(start(7), 40)).NotTo(Equal(first), "another seed gives others")
	g.Expect(first).To(ContainElement("ThrottlingException"))
	g.Expect(first).To(ContainElement(""))

	e := start(42)
	_ = outcomes(e, 5)
	e.srv.SetFaults([]Fault{{Operation: "UpdateCase", Kind: FaultThrottling, Rate: 0.5}})
	g.Expect(outcomes(e, 40)).To(Equal(first), "SetFaults restarts the random stream")
}

func TestLatencyFault(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t, func(o *Options) {
		o.Faults = []Fault{{Operation: "GetDomain", Kind: FaultLatency, Rate: 1, MinLatency: 30 * time.Millisecond}}
	})
	start := time.Now()
	_, err := e.client.GetDomain(context.Background(), &connectcases.GetDomainInput{DomainId: aws.String("d1")})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(time.Since(start)).To(BeNumerically(">=", 30*time.Millisecond))
	g.Expect(e.srv.CallCount("GetDomain", OutcomeOK)).To(Equal(1))

	fs, err := newFaultSet([]Fault{{Operation: "*", Kind: FaultLatency, Rate: 1, MinLatency: 10 * time.Millisecond, MaxLatency: 20 * time.Millisecond}}, 3)
	g.Expect(err).NotTo(HaveOccurred())
	var delays []time.Duration
	for range 20 {
		d, f := fs.decide("GetCase", "")
		g.Expect(f).To(BeNil())
		g.Expect(d).To(BeNumerically(">=", 10*time.Millisecond))
		g.Expect(d).To(BeNumerically("<=", 20*time.Millisecond))
		delays = append(delays, d)
	}
	again, _ := newFaultSet(fs.initial, 3)
	for i := range 20 {
		d, _ := again.decide("GetCase", "")
		g.Expect(d).To(Equal(delays[i]), "latency ranges are deterministic under the seed")
	}
}

func TestFaultOfOneDomain(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t, unlimited, func(o *Options) {
		o.Faults = []Fault{{Operation: "*", DomainID: "d2", Kind: FaultServiceUnavailable, Rate: 1}}
	})
	_, err := e.client.GetDomain(context.Background(), &connectcases.GetDomainInput{DomainId: aws.String("d1")})
	g.Expect(err).NotTo(HaveOccurred(), "another domain's calls pass")
	_, err = e.client.GetDomain(context.Background(), &connectcases.GetDomainInput{DomainId: aws.String("d2")})
	g.Expect(apiCode(err)).To(Equal(CodeServiceUnavailable))
	_, err = e.client.ListDomains(context.Background(), &connectcases.ListDomainsInput{})
	g.Expect(err).NotTo(HaveOccurred(), "a call without a domain is not the domain's")

	var listed []Fault
	g.Expect(e.admin(t, http.MethodGet, "/_emulator/faults", "", &listed)).To(Equal(http.StatusOK))
	g.Expect(listed).To(Equal([]Fault{{Operation: "*", DomainID: "d2", Kind: FaultServiceUnavailable, Rate: 1}}))
}

func TestFaultValidation(t *testing.T) {
	tests := map[string]struct {
		fault Fault
		want  string
	}{
		"unknown operation":      {Fault{Operation: "DeleteCase", Kind: FaultThrottling, Count: 1}, "DeleteCase"},
		"unknown kind":           {Fault{Operation: "*", Kind: "Boom", Count: 1}, "Boom"},
		"rate above one":         {Fault{Operation: "*", Kind: FaultThrottling, Rate: 1.5}, "rate"},
		"neither rate or count":  {Fault{Operation: "*", Kind: FaultThrottling}, "count or rate"},
		"latency needs a delay":  {Fault{Operation: "*", Kind: FaultLatency, Rate: 1}, "Latency"},
		"retry-after on a reset": {Fault{Operation: "*", Kind: FaultConnectionReset, Count: 1, RetryAfterSeconds: 1}, "retryAfterSeconds"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			_, err := New(Options{Region: testRegion, Faults: []Fault{tc.fault}})
			g.Expect(err).To(MatchError(ContainSubstring(tc.want)))
		})
	}
}
