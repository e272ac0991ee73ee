package emulator

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	"github.com/aws/smithy-go"
)

// Credentials and region of the test principal.
const (
	testRegion = "us-east-1"
	testKey    = "AKIDTESTALLOWED"
	testSecret = "test-secret-access-key"
	readerKey  = "AKIDTESTREADER"
	readerPass = "reader-secret-access-key"
)

// testSeedYAML is the state most tests start from.
const testSeedYAML = `
principals:
- accessKeyId: AKIDTESTREADER
  secretAccessKey: reader-secret-access-key
  actions: ["cases:GetCase"]
  domains: ["d1"]
domains:
- id: d1
  name: Test domain
  fields:
  - {id: priority, name: Priority, type: SingleSelect, options: [{name: High, value: high}, {name: Low, value: low}, {name: Old, value: old, active: false}]}
  - {id: escalated, name: Escalated, type: Boolean}
  - {id: score, name: Score, type: Number}
  - {id: summary, name: Summary, type: Text}
  - {id: owner, name: Owner, type: User}
  - {id: due, name: Due, type: DateTime}
  - {id: link, name: Link, type: Url}
  templates:
  - {id: t1, name: Default, requiredFields: [summary]}
  - {id: t-off, name: Retired, status: Inactive}
  cases:
  - id: c1
    templateId: t1
    fields:
      summary: {stringValue: first case}
      priority: {stringValue: high}
      score: {doubleValue: 1.5}
  - id: c2
    templateId: t1
    fields:
      summary: {stringValue: second case}
      priority: {stringValue: low}
      escalated: {booleanValue: true}
- id: d2
  name: Other domain
`

// env is an emulator behind an httptest server with an SDK client.
type env struct {
	srv    *Server
	ts     *httptest.Server
	client *connectcases.Client
	now    time.Time
}

// newEnv starts an emulator with the test seed and the test principal, a
// clock that does not move, and a client that does not retry.
func newEnv(t *testing.T, mutate ...func(*Options)) *env {
	t.Helper()
	seed, err := ParseSeed([]byte(testSeedYAML))
	if err != nil {
		t.Fatalf("failed to parse test seed: %v", err)
	}
	now := time.Now()
	opts := Options{
		Region:     testRegion,
		Principals: []Principal{{AccessKeyID: testKey, SecretAccessKey: testSecret, Actions: []string{"*"}, Domains: []string{"*"}}},
		Seed:       seed,
		Now:        func() time.Time { return now },
	}
	for _, m := range mutate {
		m(&opts)
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatalf("failed to start emulator: %v", err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	e := &env{srv: srv, ts: ts, now: now}
	e.client = e.clientFor(testKey, testSecret)
	return e
}

// clientFor returns an SDK client signing with the given credentials.
func (e *env) clientFor(key, secret string) *connectcases.Client {
	return connectcases.New(connectcases.Options{
		Region:       testRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(key, secret, ""),
		BaseEndpoint: aws.String(e.ts.URL),
		Retryer:      aws.NopRetryer{},
		HTTPClient:   e.ts.Client(),
	})
}

// signedRequest builds a request signed for the test principal at the given
// time, the way the SDK signs.
func signedRequest(t *testing.T, url, method, path, body, key, secret string, at time.Time) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url+path, bytes.NewBufferString(body))
	if err != nil {
		t.Fatalf("failed to build request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256([]byte(body))
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret},
		req, hex.EncodeToString(sum[:]), "cases", testRegion, at)
	if err != nil {
		t.Fatalf("failed to sign request: %v", err)
	}
	return req
}

// do sends a request and returns the response with its body read.
func do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("request failed: %v", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("failed to read response: %v", err)
	}
	return resp, data
}

// raw sends a request signed by the test principal now.
func (e *env) raw(t *testing.T, method, path, body string) (*http.Response, []byte) {
	t.Helper()
	return do(t, signedRequest(t, e.ts.URL, method, path, body, testKey, testSecret, time.Now()))
}

// caseValues reads the given fields of a case through the SDK, following
// nextToken, and returns them by field id.
func (e *env) caseValues(t *testing.T, domainID, caseID string, ids ...string) map[string]types.FieldValueUnion {
	t.Helper()
	refs := make([]types.FieldIdentifier, len(ids))
	for i, id := range ids {
		refs[i] = types.FieldIdentifier{Id: aws.String(id)}
	}
	out := map[string]types.FieldValueUnion{}
	var token *string
	for {
		resp, err := e.client.GetCase(context.Background(), &connectcases.GetCaseInput{
			DomainId: aws.String(domainID), CaseId: aws.String(caseID), Fields: refs, NextToken: token,
		})
		if err != nil {
			t.Fatalf("GetCase failed: %v", err)
		}
		for _, f := range resp.Fields {
			out[aws.ToString(f.Id)] = f.Value
		}
		if resp.NextToken == nil {
			return out
		}
		token = resp.NextToken
	}
}

// apiCode returns the error code of an SDK error, or "" when it has none.
func apiCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// entry builds an SDK FieldValue.
func entry(id string, v types.FieldValueUnion) types.FieldValue {
	return types.FieldValue{Id: aws.String(id), Value: v}
}

// str, num, boolean, user and empty build SDK union values.
func str(s string) types.FieldValueUnion  { return &types.FieldValueUnionMemberStringValue{Value: s} }
func num(f float64) types.FieldValueUnion { return &types.FieldValueUnionMemberDoubleValue{Value: f} }
func boolean(b bool) types.FieldValueUnion {
	return &types.FieldValueUnionMemberBooleanValue{Value: b}
}
func user(arn string) types.FieldValueUnion {
	return &types.FieldValueUnionMemberUserArnValue{Value: arn}
}
func empty() types.FieldValueUnion {
	return &types.FieldValueUnionMemberEmptyValue{Value: types.EmptyFieldValue{}}
}
