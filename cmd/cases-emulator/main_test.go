package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	"github.com/aws/smithy-go"
	. "github.com/onsi/gomega"

	"github.com/connectcases-operator/connectcases-operator/internal/emulator"
)

// syncBuffer is a bytes.Buffer safe to write from the server and read from
// the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs the command with args and returns its URL, its stderr and a
// function that stops it and returns run's error.
func start(t *testing.T, args ...string) (string, *syncBuffer, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdoutR, stdoutW := io.Pipe()
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		err := run(ctx, args, stdoutW, stderr)
		_ = stdoutW.CloseWithError(io.EOF)
		done <- err
	}()
	line, err := bufio.NewReader(stdoutR).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("no listening line (stderr: %s): %v", stderr.String(), err)
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if !ok || !strings.HasPrefix(url, "http://127.0.0.1:") {
		cancel()
		t.Fatalf("unexpected first line %q", line)
	}
	stop := func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			t.Fatal("run did not return after cancel")
			return nil
		}
	}
	return url, stderr, stop
}

func client(url, key, secret string) *connectcases.Client {
	return connectcases.New(connectcases.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(key, secret, ""),
		BaseEndpoint: aws.String(url),
		Retryer:      aws.NopRetryer{},
	})
}

func TestRunServesAndStopsCleanly(t *testing.T) {
	g := NewWithT(t)
	url, stderr, stop := start(t, "--listen", "127.0.0.1:0", "--region", "us-east-1",
		"--access-key-id", "AKIDCLI", "--secret-access-key", "cli-secret",
		"--seed", "../../config/emulator/demo-seed.yaml", "--fault-count", "GetDomain=ThrottlingException:1")
	c := client(url, "AKIDCLI", "cli-secret")
	ctx := context.Background()

	out, err := c.GetCase(ctx, &connectcases.GetCaseInput{DomainId: aws.String("locked-domain"), CaseId: aws.String("case-locked-0001"),
		Fields: []types.FieldIdentifier{{Id: aws.String("summary")}}})
	g.Expect(err).NotTo(HaveOccurred(), "the command-line principal may use every domain")
	g.Expect(out.Fields).To(HaveLen(1))

	_, err = c.GetDomain(ctx, &connectcases.GetDomainInput{DomainId: aws.String("demo-domain")})
	var te *types.ThrottlingException
	g.Expect(errors.As(err, &te)).To(BeTrue(), "the counted fault fires: %v", err)

	_, err = client(url, "AKIDEMOCONNECTCASES", "demo-secret-access-key-not-for-production").GetCase(ctx, &connectcases.GetCaseInput{
		DomainId: aws.String("locked-domain"), CaseId: aws.String("case-locked-0001"), Fields: []types.FieldIdentifier{{Id: aws.String("summary")}}})
	var ad *types.AccessDeniedException
	g.Expect(errors.As(err, &ad)).To(BeTrue(), "the demo key may not use locked-domain: %v", err)

	g.Expect(stop()).To(Succeed())
	g.Expect(stderr.String()).To(ContainSubstring("Stopped"))
	g.Expect(stderr.String()).NotTo(ContainSubstring("cli-secret"))
}

func TestRunKeepsSeedPermissionsOfTheCommandLineKey(t *testing.T) {
	g := NewWithT(t)
	url, _, stop := start(t, "--listen", "127.0.0.1:0", "--access-key-id", "AKIDEMOCONNECTCASES",
		"--secret-access-key", "demo-secret-access-key-not-for-production", "--seed", "../../config/emulator/demo-seed.yaml")
	defer func() { g.Expect(stop()).To(Succeed()) }()
	_, err := client(url, "AKIDEMOCONNECTCASES", "demo-secret-access-key-not-for-production").GetDomain(context.Background(),
		&connectcases.GetDomainInput{DomainId: aws.String("locked-domain")})
	var apiErr smithy.APIError
	g.Expect(errors.As(err, &apiErr)).To(BeTrue())
	g.Expect(apiErr.ErrorCode()).To(Equal("AccessDeniedException"))
}

func TestRunRefusesBadConfiguration(t *testing.T) {
	tests := map[string]struct {
		args []string
		want string
	}{
		"no principals":       {[]string{"--listen", "127.0.0.1:0"}, "no principals"},
		"key without secret":  {[]string{"--access-key-id", "A"}, "go together"},
		"missing seed":        {[]string{"--access-key-id", "A", "--secret-access-key", "s", "--seed", "does-not-exist.yaml"}, "failed to read seed"},
		"seed key other pass": {[]string{"--access-key-id", "AKIDEMOREADONLY", "--secret-access-key", "x", "--seed", "../../config/emulator/demo-seed.yaml"}, "another secret"},
		"bad listen address":  {[]string{"--access-key-id", "A", "--secret-access-key", "s", "--listen", "nonsense"}, "failed to listen"},
		"unknown operation":   {[]string{"--access-key-id", "A", "--secret-access-key", "s", "--quota", "Nope=1:1"}, "Nope"},
		"stray argument":      {[]string{"extra"}, "unexpected arguments"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			err := run(context.Background(), tc.args, io.Discard, io.Discard)
			g.Expect(err).To(MatchError(ContainSubstring(tc.want)))
		})
	}
}

func TestParseFlags(t *testing.T) {
	g := NewWithT(t)
	cfg, err := parseFlags([]string{
		"--update-rps", "5", "--quota", "GetCase=8:16", "--retry-after", "3",
		"--fault-rate", "UpdateCase=InternalServerException:0.25", "--fault-rate", "*=connectionreset:0.1",
		"--fault-count", "GetCase=ThrottlingException:4", "--latency", "UpdateCase=50ms-200ms", "--latency", "GetCase=10ms",
		"--random-seed", "9",
	}, io.Discard)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cfg.quotas).To(Equal(map[string]emulator.Quota{"UpdateCase": {RPS: 5, Burst: 2}, "GetCase": {RPS: 8, Burst: 16}}))
	g.Expect(cfg.randomSeed).To(Equal(int64(9)))
	g.Expect(cfg.faults).To(Equal([]emulator.Fault{
		{Operation: "UpdateCase", Kind: emulator.FaultInternalServer, Rate: 0.25, RetryAfterSeconds: 3},
		{Operation: "*", Kind: emulator.FaultConnectionReset, Rate: 0.1},
		{Operation: "GetCase", Kind: emulator.FaultThrottling, Count: 4},
		{Operation: "UpdateCase", Kind: emulator.FaultLatency, Rate: 1, MinLatency: 50 * time.Millisecond, MaxLatency: 200 * time.Millisecond},
		{Operation: "GetCase", Kind: emulator.FaultLatency, Rate: 1, MinLatency: 10 * time.Millisecond, MaxLatency: 10 * time.Millisecond},
	}))

	bad := map[string][]string{
		"quota form":     {"--quota", "GetCase=8"},
		"quota number":   {"--quota", "GetCase=x:1"},
		"fault kind":     {"--fault-rate", "UpdateCase=Boom:0.5"},
		"fault rate":     {"--fault-rate", "UpdateCase=ThrottlingException:2"},
		"fault count":    {"--fault-count", "UpdateCase=ThrottlingException:x"},
		"fault op":       {"--fault-count", "Nope=ThrottlingException:1"},
		"latency form":   {"--latency", "UpdateCase"},
		"latency value":  {"--latency", "UpdateCase=fast"},
		"unknown flag":   {"--nope"},
		"burst not int":  {"--update-burst", "x"},
		"latency op bad": {"--latency", "Nope=1ms"},
	}
	for name, args := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := parseFlags(args, io.Discard)
			NewWithT(t).Expect(err).To(HaveOccurred())
		})
	}
}
