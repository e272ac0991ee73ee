package cases

import (
	"context"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	. "github.com/onsi/gomega"

	"github.com/connectcases-operator/connectcases-operator/internal/emulator"
	"github.com/connectcases-operator/connectcases-operator/internal/testenv"
)

// Credentials and region of the emulator's test principal.
const (
	testRegion    = "us-east-1"
	testAccessKey = "AKIDTESTCASES"
	testSecretKey = "test-secret-access-key-cases"
)

// testSeed has two domains the test principal may use, so that one can fail
// while the other works.
const testSeed = `
principals:
- accessKeyId: AKIDTESTCASES
  secretAccessKey: test-secret-access-key-cases
  actions: ["*"]
  domains: ["*"]
domains:
- id: domain-a
  name: Domain A
  fields:
  - {id: priority, name: Priority, type: SingleSelect, options: [{name: High, value: high}, {name: Low, value: low}]}
  - {id: summary, name: Summary, type: Text}
  templates:
  - {id: template-1, name: Default}
  cases:
  - {id: case-1, templateId: template-1}
- id: domain-b
  name: Domain B
  fields:
  - {id: priority, name: Priority, type: SingleSelect, options: [{name: High, value: high}]}
  - {id: summary, name: Summary, type: Text}
`

func TestMain(m *testing.M) {
	// The SDK's default chain reads nothing of the developer's environment.
	testenv.IsolateAWS(testAccessKey, testSecretKey, testRegion)
	os.Exit(m.Run())
}

// env is an emulator served over HTTP for one test.
type env struct {
	t   *testing.T
	emu *emulator.Server
	url string
}

// newEnv starts an emulator with the test seed and no quota in the way.
func newEnv(t *testing.T) *env {
	t.Helper()
	g := NewWithT(t)
	seed, err := emulator.ParseSeed([]byte(testSeed))
	g.Expect(err).NotTo(HaveOccurred())
	quotas := map[string]emulator.Quota{}
	for _, op := range emulator.Operations() {
		quotas[op] = emulator.Quota{}
	}
	emu, err := emulator.New(emulator.Options{Region: testRegion, Seed: seed, Quotas: quotas, RandomSeed: 1})
	g.Expect(err).NotTo(HaveOccurred())
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return &env{t: t, emu: emu, url: srv.URL}
}

// client returns the operator's client (LoadConfig, NewClient) pointed at
// the emulator, signing with the test principal and sessionToken.
func (e *env) client(opts Options, sessionToken string) *connectcases.Client {
	e.t.Helper()
	opts.Region = testRegion
	cfg, err := LoadConfig(context.Background(), opts)
	NewWithT(e.t).Expect(err).NotTo(HaveOccurred())
	cfg.Credentials = GuardCredentials(credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, sessionToken))
	return NewClient(cfg, func(o *connectcases.Options) { o.BaseEndpoint = aws.String(e.url) })
}

// calls returns the recorded calls of an operation, oldest first.
func (e *env) calls(operation string) []emulator.CallRecord {
	var out []emulator.CallRecord
	for _, c := range e.emu.Calls().Recent {
		if c.Operation == operation {
			out = append(out, c)
		}
	}
	return out
}

// hang makes every call of a domain wait far longer than any test runs,
// until the client gives up.
func (e *env) hang(domainID string) {
	e.emu.SetFaults([]emulator.Fault{{Operation: "*", DomainID: domainID, Kind: emulator.FaultLatency, Rate: 1, MinLatency: time.Hour}})
}
