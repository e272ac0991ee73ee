package emulator

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	. "github.com/onsi/gomega"
)

const updateBody = `{"fields":[{"id":"score","value":{"doubleValue":5}}]}`

func TestSignatureVerification(t *testing.T) {
	tests := map[string]struct {
		build    func(t *testing.T, url string) *httpRequest
		status   int
		code     string
		contains string
	}{
		"correctly signed": {
			build: func(t *testing.T, url string) *httpRequest {
				return sign(t, url, testKey, testSecret, time.Now(), testRegion)
			},
			status: 200,
		},
		"tampered body": {
			build: func(t *testing.T, url string) *httpRequest {
				r := sign(t, url, testKey, testSecret, time.Now(), testRegion)
				r.setBody(strings.Replace(updateBody, "5", "6", 1))
				return r
			},
			status: 403, code: "InvalidSignatureException", contains: "signature we calculated does not match",
		},
		"wrong secret": {
			build: func(t *testing.T, url string) *httpRequest {
				return sign(t, url, testKey, "not-the-secret", time.Now(), testRegion)
			},
			status: 403, code: "InvalidSignatureException", contains: "signature we calculated does not match",
		},
		"unknown access key": {
			build: func(t *testing.T, url string) *httpRequest {
				return sign(t, url, "AKIDUNKNOWN", testSecret, time.Now(), testRegion)
			},
			status: 403, code: "UnrecognizedClientException", contains: "security token included in the request is invalid",
		},
		"stale date": {
			build: func(t *testing.T, url string) *httpRequest {
				return sign(t, url, testKey, testSecret, time.Now().Add(-6*time.Minute), testRegion)
			},
			status: 403, code: "InvalidSignatureException", contains: "Signature expired",
		},
		"date in the future": {
			build: func(t *testing.T, url string) *httpRequest {
				return sign(t, url, testKey, testSecret, time.Now().Add(6*time.Minute), testRegion)
			},
			status: 403, code: "InvalidSignatureException", contains: "Signature not yet current",
		},
		"date within the skew window": {
			build: func(t *testing.T, url string) *httpRequest {
				return sign(t, url, testKey, testSecret, time.Now().Add(-4*time.Minute), testRegion)
			},
			status: 200,
		},
		"wrong region": {
			build: func(t *testing.T, url string) *httpRequest {
				return sign(t, url, testKey, testSecret, time.Now(), "eu-west-1")
			},
			status: 403, code: "InvalidSignatureException", contains: "region",
		},
		"unsigned": {
			build: func(t *testing.T, url string) *httpRequest {
				r := sign(t, url, testKey, testSecret, time.Now(), testRegion)
				r.req.Header.Del("Authorization")
				return r
			},
			status: 403, code: "MissingAuthenticationTokenException", contains: "Missing Authentication Token",
		},
		"not SigV4": {
			build: func(t *testing.T, url string) *httpRequest {
				r := sign(t, url, testKey, testSecret, time.Now(), testRegion)
				r.req.Header.Set("Authorization", "Basic dXNlcjpwYXNz")
				return r
			},
			status: 403, code: "IncompleteSignatureException",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			e := newEnv(t)
			resp, body := do(t, tc.build(t, e.ts.URL).req)
			g.Expect(resp.StatusCode).To(Equal(tc.status), "body %s", body)
			g.Expect(resp.Header.Get("x-amzn-RequestId")).NotTo(BeEmpty())
			stored, _ := e.srv.CaseFields("d1", "c1")
			if tc.status != 200 {
				g.Expect(resp.Header.Get("X-Amzn-ErrorType")).To(Equal(tc.code))
				g.Expect(resp.Header.Get("Content-Type")).To(Equal("application/json"))
				var msg struct{ Message string }
				g.Expect(json.Unmarshal(body, &msg)).To(Succeed())
				g.Expect(msg.Message).To(ContainSubstring(tc.contains))
				g.Expect(stored["score"]).To(Equal(DoubleValue(1.5)), "a refused call changes nothing")
				g.Expect(e.srv.CallCount("UpdateCase", tc.code)).To(Equal(1))
			} else {
				g.Expect(stored["score"]).To(Equal(DoubleValue(5)))
			}
		})
	}
}

// httpRequest wraps a signed request so a test can change it afterwards.
type httpRequest struct {
	req *http.Request
}

func (r *httpRequest) setBody(body string) {
	r.req.Body = io.NopCloser(bytes.NewBufferString(body))
	r.req.ContentLength = int64(len(body))
}

// sign returns an UpdateCase request signed with the given key, time and
// region scope.
func sign(t *testing.T, url, key, secret string, at time.Time, region string) *httpRequest {
	t.Helper()
	req, err := http.NewRequest("PUT", url+"/domains/d1/cases/c1", bytes.NewBufferString(updateBody))
	if err != nil {
		t.Fatalf("failed to build request: %v", err)
	}
	sum := sha256.Sum256([]byte(updateBody))
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret},
		req, hex.EncodeToString(sum[:]), "cases", region, at)
	if err != nil {
		t.Fatalf("failed to sign: %v", err)
	}
	return &httpRequest{req: req}
}

func TestSDKSeesAuthenticationErrorCodes(t *testing.T) {
	tests := map[string]struct {
		key, secret string
		clockShift  time.Duration
		code        string
	}{
		"unknown key":  {key: "AKIDUNKNOWN", secret: testSecret, code: "UnrecognizedClientException"},
		"wrong secret": {key: testKey, secret: "wrong", code: "InvalidSignatureException"},
		"stale date":   {key: testKey, secret: testSecret, clockShift: 10 * time.Minute, code: "InvalidSignatureException"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			e := newEnv(t, func(o *Options) {
				now := time.Now().Add(tc.clockShift)
				o.Now = func() time.Time { return now }
			})
			_, err := e.clientFor(tc.key, tc.secret).UpdateCase(context.Background(), &connectcases.UpdateCaseInput{
				DomainId: aws.String("d1"), CaseId: aws.String("c1"), Fields: []types.FieldValue{entry("score", num(2))},
			})
			g.Expect(apiCode(err)).To(Equal(tc.code), "error %v", err)
		})
	}
}

func TestSessionTokenIsAccepted(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	client := connectcases.New(connectcases.Options{
		Region:       testRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(testKey, testSecret, "session-token"),
		BaseEndpoint: aws.String(e.ts.URL),
		Retryer:      aws.NopRetryer{},
	})
	_, err := client.GetDomain(context.Background(), &connectcases.GetDomainInput{DomainId: aws.String("d1")})
	g.Expect(err).NotTo(HaveOccurred())
}

func TestSignatureOverEscapedPathAndQuery(t *testing.T) {
	g := NewWithT(t)
	odd := "case id/with ünïcode+plus"
	e := newEnv(t, func(o *Options) {
		o.Seed.Domains[0].Cases = append(o.Seed.Domains[0].Cases, SeedCase{ID: odd, TemplateID: "t1",
			Fields: map[string]FieldValue{"summary": StringValue("odd")}})
	})
	got := e.caseValues(t, "d1", odd, "summary")
	g.Expect(got).To(HaveKey("summary"))
	out, err := e.client.ListFieldOptions(context.Background(), &connectcases.ListFieldOptionsInput{
		DomainId: aws.String("d1"), FieldId: aws.String("priority"), Values: []string{"high low&x=y"}, MaxResults: aws.Int32(5),
	})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out.Options).To(BeEmpty())
}

func TestAuthorization(t *testing.T) {
	tests := map[string]struct {
		key, secret string
		call        func(c *connectcases.Client) error
		denied      bool
	}{
		"reader may GetCase on its domain": {readerKey, readerPass, func(c *connectcases.Client) error {
			_, err := c.GetCase(context.Background(), &connectcases.GetCaseInput{DomainId: aws.String("d1"), CaseId: aws.String("c1"),
				Fields: []types.FieldIdentifier{{Id: aws.String("summary")}}})
			return err
		}, false},
		"reader may not UpdateCase": {readerKey, readerPass, func(c *connectcases.Client) error {
			_, err := c.UpdateCase(context.Background(), &connectcases.UpdateCaseInput{DomainId: aws.String("d1"), CaseId: aws.String("c1"),
				Fields: []types.FieldValue{entry("score", num(1))}})
			return err
		}, true},
		"reader may not read another domain": {readerKey, readerPass, func(c *connectcases.Client) error {
			_, err := c.GetCase(context.Background(), &connectcases.GetCaseInput{DomainId: aws.String("d2"), CaseId: aws.String("c1"),
				Fields: []types.FieldIdentifier{{Id: aws.String("summary")}}})
			return err
		}, true},
		"reader is denied before a missing domain is found": {readerKey, readerPass, func(c *connectcases.Client) error {
			_, err := c.GetCase(context.Background(), &connectcases.GetCaseInput{DomainId: aws.String("ghost"), CaseId: aws.String("c1"),
				Fields: []types.FieldIdentifier{{Id: aws.String("summary")}}})
			return err
		}, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			e := newEnv(t)
			err := tc.call(e.clientFor(tc.key, tc.secret))
			if !tc.denied {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			var ad *types.AccessDeniedException
			g.Expect(errors.As(err, &ad)).To(BeTrue(), "error %v", err)
			g.Expect(ad.ErrorMessage()).To(ContainSubstring("not authorized to perform: cases:"))
			g.Expect(e.srv.CallCount("", "AccessDeniedException")).To(Equal(1))
		})
	}
}

func TestWildcardMatch(t *testing.T) {
	tests := map[string]struct {
		pattern, s string
		want       bool
	}{
		"star matches all":      {"*", "cases:UpdateCase", true},
		"service wildcard":      {"cases:*", "cases:GetCase", true},
		"prefix wildcard":       {"cases:Get*", "cases:GetCase", true},
		"prefix wildcard fails": {"cases:Get*", "cases:UpdateCase", false},
		"inner wildcard":        {"d*-prod", "demo-prod", true},
		"overlapping parts":     {"a*a", "a", false},
		"literal":               {"demo-domain", "demo-domain", true},
		"literal mismatch":      {"demo-domain", "locked-domain", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			NewWithT(t).Expect(wildcardMatch(tc.pattern, tc.s)).To(Equal(tc.want))
		})
	}
}
