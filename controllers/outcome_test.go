package controllers

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	. "github.com/onsi/gomega"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/cases"
	"github.com/connectcases-operator/connectcases-operator/internal/emulator"
)

// outcomeEnv is the emulator of the outcome tests, served over HTTP, with
// the production client configuration pointed at it.
type outcomeEnv struct {
	t   *testing.T
	emu *emulator.Server
	url string
}

// newOutcomeEnv starts an emulator with the suite's seed and no quota in the
// way.
func newOutcomeEnv(t *testing.T) *outcomeEnv {
	t.Helper()
	g := NewWithT(t)
	seed, err := emulator.ParseSeed([]byte(testSeed))
	g.Expect(err).NotTo(HaveOccurred())
	emu, err := emulator.New(emulator.Options{Region: testRegion, Seed: seed, RandomSeed: 1,
		Quotas: map[string]emulator.Quota{"UpdateCase": {}, "CreateField": {}}})
	g.Expect(err).NotTo(HaveOccurred())
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return &outcomeEnv{t: t, emu: emu, url: srv.URL}
}

// client returns the operator's client (cases.LoadConfig, cases.NewClient)
// with opts, signing with creds.
func (e *outcomeEnv) client(opts cases.Options, creds aws.CredentialsProvider) *connectcases.Client {
	e.t.Helper()
	opts.Region = testRegion
	cfg, err := cases.LoadConfig(context.Background(), opts)
	NewWithT(e.t).Expect(err).NotTo(HaveOccurred())
	cfg.Credentials = cases.GuardCredentials(creds)
	return cases.NewClient(cfg, func(o *connectcases.Options) { o.BaseEndpoint = aws.String(e.url) })
}

// lastRequestID returns the request id of the last recorded call of an
// operation: the id its answer carried, "" for an answer without one.
func (e *outcomeEnv) lastRequestID(operation string) string {
	id := ""
	for _, c := range e.emu.Calls().Recent {
		if c.Operation == operation {
			id = c.RequestID
		}
	}
	return id
}

// staticCreds returns a provider of the given key pair.
func staticCreds(key, secret string) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(key, secret, "")
}

// updateSummary is the UpdateCase of most rows: case-1 of domain-1.
func updateSummary(ctx context.Context, c *connectcases.Client) error {
	_, err := c.UpdateCase(ctx, &connectcases.UpdateCaseInput{DomainId: aws.String("domain-1"), CaseId: aws.String("case-1"),
		Fields: []types.FieldValue{{Id: aws.String("summary"), Value: &types.FieldValueUnionMemberStringValue{Value: "updated"}}}})
	return err
}

// update returns an UpdateCase call of one string value.
func update(domainID, caseID, fieldID, value string) func(context.Context, *connectcases.Client) error {
	return func(ctx context.Context, c *connectcases.Client) error {
		_, err := c.UpdateCase(ctx, &connectcases.UpdateCaseInput{DomainId: aws.String(domainID), CaseId: aws.String(caseID),
			Fields: []types.FieldValue{{Id: aws.String(fieldID), Value: &types.FieldValueUnionMemberStringValue{Value: value}}}})
		return err
	}
}

// TestClassifyUpdateError drives every row through the operator's SDK client
// against the emulator over HTTP: the errors classified are the ones the SDK
// really returns for each answer (or its absence). In wantMessage, {id}
// stands for the request id of the row's last answer.
func TestClassifyUpdateError(t *testing.T) {
	noCreds := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{}, errors.New("no EC2 IMDS role found")
	})
	tests := map[string]struct {
		fault   *emulator.Fault
		opts    cases.Options
		creds   aws.CredentialsProvider
		timeout time.Duration
		call    func(context.Context, *connectcases.Client) error
		// operation is the operation of call, UpdateCase when empty.
		operation string
		// noAnswer: the call got no answer, so no request id.
		noAnswer       bool
		wantReason     string
		wantRetry      RetryPolicy
		wantMessage    string
		wantPrefix     bool
		wantRetryAfter time.Duration
	}{
		"ValidationException": {
			call:        update("domain-1", "case-1", "priority", "urgent"),
			wantReason:  casesv1alpha1.ValidationErrorReason,
			wantRetry:   RetryNever,
			wantMessage: `ValidationException: Invalid value for field 'priority': "urgent" is not an active option of the field (request id {id})`,
		},
		"ResourceNotFoundException": {
			call:        update("domain-1", "no-such-case", "summary", "x"),
			wantReason:  casesv1alpha1.ResourceNotFoundReason,
			wantRetry:   RetryStalled,
			wantMessage: "ResourceNotFoundException: Case no-such-case not found (request id {id})",
		},
		"AccessDeniedException": {
			call:        update("domain-locked", "case-1", "summary", "x"),
			wantReason:  casesv1alpha1.AccessDeniedReason,
			wantRetry:   RetryStalled,
			wantMessage: "AccessDeniedException: ",
			wantPrefix:  true,
		},
		"UnrecognizedClientException": {
			creds:       staticCreds(testUnknownKey, testSecretKey),
			wantReason:  casesv1alpha1.InvalidCredentialsReason,
			wantRetry:   RetryStalled,
			wantMessage: "UnrecognizedClientException: The security token included in the request is invalid (request id {id})",
		},
		"InvalidSignatureException": {
			creds:       staticCreds(testAccessKey, "wrong-secret"),
			wantReason:  casesv1alpha1.InvalidCredentialsReason,
			wantRetry:   RetryStalled,
			wantMessage: "InvalidSignatureException: ",
			wantPrefix:  true,
		},
		"ExpiredTokenException": {
			fault:       &emulator.Fault{Operation: "UpdateCase", Kind: emulator.FaultExpiredToken, Count: 1},
			wantReason:  casesv1alpha1.InvalidCredentialsReason,
			wantRetry:   RetryStalled,
			wantMessage: "ExpiredTokenException: The security token included in the request is expired (request id {id})",
		},
		"no credentials": {
			creds:       noCreds,
			noAnswer:    true,
			wantReason:  casesv1alpha1.InvalidCredentialsReason,
			wantRetry:   RetryStalled,
			wantMessage: "No AWS credentials could be resolved: no EC2 IMDS role found",
		},
		"ThrottlingException after the SDK's attempts": {
			fault:       &emulator.Fault{Operation: "UpdateCase", Kind: emulator.FaultThrottling, Count: 3},
			wantReason:  casesv1alpha1.ThrottledReason,
			wantRetry:   RetryBackoff,
			wantMessage: "ThrottlingException: Injected fault: rate exceeded (request id {id})",
		},
		"429 with a code neither the model nor the SDK lists": {
			fault:       &emulator.Fault{Operation: "UpdateCase", Kind: emulator.FaultTooManyRequests, Count: 3},
			wantReason:  casesv1alpha1.ThrottledReason,
			wantRetry:   RetryBackoff,
			wantMessage: "TooManyRequests: Injected fault: too many requests (request id {id})",
		},
		"InternalServerException with retryAfterSeconds": {
			fault:          &emulator.Fault{Operation: "UpdateCase", Kind: emulator.FaultInternalServer, Count: 3, RetryAfterSeconds: 7},
			wantReason:     casesv1alpha1.InternalServerErrorReason,
			wantRetry:      RetryBackoff,
			wantMessage:    "InternalServerException: Injected fault: internal server error (request id {id})",
			wantRetryAfter: 7 * time.Second,
		},
		"503 with a code the model does not list": {
			fault:       &emulator.Fault{Operation: "UpdateCase", Kind: emulator.FaultServiceUnavailable, Count: 3},
			wantReason:  casesv1alpha1.InternalServerErrorReason,
			wantRetry:   RetryBackoff,
			wantMessage: "ServiceUnavailableException: Injected fault: service unavailable (request id {id})",
		},
		"503 with Retry-After": {
			fault:          &emulator.Fault{Operation: "UpdateCase", Kind: emulator.FaultServiceUnavailable, Count: 3, RetryAfterSeconds: 5},
			wantReason:     casesv1alpha1.InternalServerErrorReason,
			wantRetry:      RetryBackoff,
			wantMessage:    "ServiceUnavailableException: Injected fault: service unavailable (request id {id})",
			wantRetryAfter: 5 * time.Second,
		},
		"502 with an HTML page": {
			fault:       &emulator.Fault{Operation: "UpdateCase", Kind: emulator.FaultBadGateway, Count: 3},
			wantReason:  casesv1alpha1.InternalServerErrorReason,
			wantRetry:   RetryBackoff,
			wantMessage: "Connect Cases answered HTTP 502 Bad Gateway with a body that is not an AWS error",
		},
		"504 with an empty body": {
			fault:       &emulator.Fault{Operation: "UpdateCase", Kind: emulator.FaultGatewayTimeout, Count: 3},
			wantReason:  casesv1alpha1.InternalServerErrorReason,
			wantRetry:   RetryBackoff,
			wantMessage: "Connect Cases answered HTTP 504 Gateway Timeout without an error code",
		},
		"unknown client error": {
			call: func(ctx context.Context, c *connectcases.Client) error {
				_, err := c.CreateField(ctx, &connectcases.CreateFieldInput{DomainId: aws.String("domain-1"), Name: aws.String("Priority"), Type: types.FieldTypeText})
				return err
			},
			operation:   "CreateField",
			wantReason:  casesv1alpha1.UnexpectedErrorReason,
			wantRetry:   RetryStalled,
			wantMessage: "ConflictException: ",
			wantPrefix:  true,
		},
		"connection reset": {
			fault:       &emulator.Fault{Operation: "UpdateCase", Kind: emulator.FaultConnectionReset, Count: 3},
			noAnswer:    true,
			wantReason:  casesv1alpha1.NetworkErrorReason,
			wantRetry:   RetryBackoff,
			wantMessage: "The call to Connect Cases got no answer: ",
			wantPrefix:  true,
		},
		"timeout": {
			fault:       &emulator.Fault{Operation: "UpdateCase", Kind: emulator.FaultLatency, Rate: 1, MinLatency: time.Hour},
			timeout:     200 * time.Millisecond,
			noAnswer:    true,
			wantReason:  casesv1alpha1.NetworkErrorReason,
			wantRetry:   RetryBackoff,
			wantMessage: "The call to Connect Cases timed out",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			e := newOutcomeEnv(t)
			if tc.fault != nil {
				e.emu.SetFaults([]emulator.Fault{*tc.fault})
			}
			creds, call, operation := tc.creds, tc.call, tc.operation
			if creds == nil {
				creds = staticCreds(testAccessKey, testSecretKey)
			}
			if call == nil {
				call = updateSummary
			}
			if operation == "" {
				operation = "UpdateCase"
			}
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			err := call(ctx, e.client(tc.opts, creds))
			g.Expect(err).To(HaveOccurred())

			got := ClassifyUpdateError(err)
			requestID := ""
			if !tc.noAnswer {
				requestID = e.lastRequestID(operation)
			}
			g.Expect(got.Reason).To(Equal(tc.wantReason))
			g.Expect(got.Retry).To(Equal(tc.wantRetry))
			if tc.wantPrefix {
				g.Expect(got.Message).To(HavePrefix(tc.wantMessage))
			} else {
				g.Expect(got.Message).To(Equal(strings.ReplaceAll(tc.wantMessage, "{id}", requestID)))
			}
			g.Expect(got.RequestID).To(Equal(requestID))
			g.Expect(got.RetryAfter).To(Equal(tc.wantRetryAfter))
			g.Expect(got.Stalled()).To(Equal(tc.wantRetry != RetryBackoff))
			g.Expect(got.Reason == casesv1alpha1.ThrottledReason).To(Equal(cases.IsThrottle(err)),
				"the classifier and the limiter's feedback share one definition of a throttle")
		})
	}
}

func TestFullJitterBackoff(t *testing.T) {
	tests := map[string]struct {
		failures int32
		min, max time.Duration
	}{
		"first failure waits the base":      {failures: 1, min: time.Second, max: time.Second},
		"second failure up to twice":        {failures: 2, min: time.Second, max: 2 * time.Second},
		"fifth failure up to sixteen":       {failures: 5, min: time.Second, max: 16 * time.Second},
		"many failures capped at the limit": {failures: 60, min: time.Second, max: 5 * time.Minute},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			for range 200 {
				d := fullJitterBackoff(tc.failures, time.Second, 5*time.Minute)
				g.Expect(d).To(And(BeNumerically(">=", tc.min), BeNumerically("<=", tc.max)))
			}
		})
	}
}

func TestRequeueAfter(t *testing.T) {
	r := &CaseFieldUpdateReconciler{StalledRetryInterval: 10 * time.Minute, MaxBackoff: time.Minute}
	tests := map[string]struct {
		outcome  Outcome
		failures int32
		min, max time.Duration
	}{
		"applied is not requeued":            {outcome: Outcome{Retry: RetryNever}, failures: 0},
		"stalled waits the interval ±10%":    {outcome: Outcome{Retry: RetryStalled}, failures: 3, min: 9 * time.Minute, max: 11 * time.Minute},
		"backoff is capped by max-backoff":   {outcome: Outcome{Retry: RetryBackoff}, failures: 30, min: time.Second, max: time.Minute},
		"retryAfterSeconds is a lower bound": {outcome: Outcome{Retry: RetryBackoff, RetryAfter: 30 * time.Second}, failures: 1, min: 30 * time.Second, max: 30 * time.Second},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			for range 100 {
				g.Expect(r.requeueAfter(tc.outcome, tc.failures)).To(And(BeNumerically(">=", tc.min), BeNumerically("<=", tc.max)))
			}
		})
	}
}
