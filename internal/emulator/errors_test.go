package emulator

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	. "github.com/onsi/gomega"
)

// TestErrorResponsesReachTheSDK drives every error the emulator answers
// through the SDK and checks status, headers, code and the typed error.
func TestErrorResponsesReachTheSDK(t *testing.T) {
	tests := map[string]struct {
		mutate func(*Options)
		key    string
		secret string
		fields []types.FieldValue
		domain string
		status int
		code   string
		typed  func(g *WithT, err error)
	}{
		"ValidationException": {fields: []types.FieldValue{entry("score", str("high"))}, status: 400, code: "ValidationException",
			typed: func(g *WithT, err error) {
				var e *types.ValidationException
				g.Expect(errors.As(err, &e)).To(BeTrue())
				g.Expect(e.ErrorMessage()).To(ContainSubstring("score"))
			}},
		"ResourceNotFoundException": {domain: "ghost", status: 404, code: "ResourceNotFoundException",
			typed: func(g *WithT, err error) {
				var e *types.ResourceNotFoundException
				g.Expect(errors.As(err, &e)).To(BeTrue())
				g.Expect(aws.ToString(e.ResourceId)).To(Equal("ghost"))
				g.Expect(aws.ToString(e.ResourceType)).To(Equal("Domain"))
			}},
		"AccessDeniedException": {key: readerKey, secret: readerPass, status: 403, code: "AccessDeniedException",
			typed: func(g *WithT, err error) {
				var e *types.AccessDeniedException
				g.Expect(errors.As(err, &e)).To(BeTrue())
			}},
		"ThrottlingException": {mutate: func(o *Options) { o.Quotas = map[string]Quota{"UpdateCase": {RPS: 1, Burst: 1}} },
			status: 429, code: "ThrottlingException",
			typed: func(g *WithT, err error) {
				var e *types.ThrottlingException
				g.Expect(errors.As(err, &e)).To(BeTrue())
			}},
		"InternalServerException": {mutate: func(o *Options) {
			o.Faults = []Fault{{Operation: "UpdateCase", Kind: FaultInternalServer, Count: 1, RetryAfterSeconds: 30}}
		}, status: 500, code: "InternalServerException",
			typed: func(g *WithT, err error) {
				var e *types.InternalServerException
				g.Expect(errors.As(err, &e)).To(BeTrue())
				g.Expect(aws.ToInt32(e.RetryAfterSeconds)).To(Equal(int32(30)))
			}},
		"UnrecognizedClientException": {key: "AKIDNOBODY", secret: "x", status: 403, code: "UnrecognizedClientException"},
		"InvalidSignatureException":   {key: testKey, secret: "x", status: 403, code: "InvalidSignatureException"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			mutate := tc.mutate
			if mutate == nil {
				mutate = func(*Options) {}
			}
			e := newEnv(t, mutate)
			client := e.client
			if tc.key != "" {
				client = e.clientFor(tc.key, tc.secret)
			}
			domain, fields := tc.domain, tc.fields
			if domain == "" {
				domain = "d1"
			}
			if fields == nil {
				fields = []types.FieldValue{entry("score", num(8))}
			}
			call := func() error {
				_, err := client.UpdateCase(context.Background(), &connectcases.UpdateCaseInput{
					DomainId: aws.String(domain), CaseId: aws.String("c1"), Fields: fields,
				})
				return err
			}
			err := call()
			if tc.code == "ThrottlingException" {
				g.Expect(err).NotTo(HaveOccurred())
				err = call()
			}
			g.Expect(apiCode(err)).To(Equal(tc.code), "error %v", err)
			var re *awshttp.ResponseError
			g.Expect(errors.As(err, &re)).To(BeTrue())
			g.Expect(re.HTTPStatusCode()).To(Equal(tc.status))
			g.Expect(re.Response.Header.Get("X-Amzn-ErrorType")).To(Equal(tc.code))
			g.Expect(re.Response.Header.Get("Content-Type")).To(Equal("application/json"))
			recent := e.srv.Calls().Recent
			g.Expect(re.ServiceRequestID()).To(Equal(recent[len(recent)-1].RequestID), "the SDK sees x-amzn-RequestId")
			if tc.typed != nil {
				tc.typed(g, err)
			}
		})
	}
}

// TestEndpointFromEnvironment checks the documented way of pointing a
// default-configured client at the emulator.
func TestEndpointFromEnvironment(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_ENDPOINT_URL_CONNECTCASES", e.ts.URL)
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(testRegion),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(testKey, testSecret, "")))
	g.Expect(err).NotTo(HaveOccurred())
	out, err := connectcases.NewFromConfig(cfg).GetDomain(context.Background(), &connectcases.GetDomainInput{DomainId: aws.String("d1")})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(aws.ToString(out.Name)).To(Equal("Test domain"))
}
