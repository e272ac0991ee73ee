package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
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
		{Operation: "GetCase", Kind: emulator.FaultThrottling, Count: 4, RetryAfterSeconds: 3},
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

func TestParseFlagsRejectsNumbersOutOfRange(t *testing.T) {
	tests := map[string]struct {
		args []string
		want string
	}{
		"update-rps NaN":            {[]string{"--update-rps", "NaN"}, "--update-rps"},
		"update-rps infinite":       {[]string{"--update-rps", "+Inf"}, "--update-rps"},
		"update-rps negative":       {[]string{"--update-rps", "-1"}, "--update-rps"},
		"update-burst negative":     {[]string{"--update-burst", "-2"}, "--update-burst"},
		"quota rps NaN":             {[]string{"--quota", "GetCase=NaN:1"}, "--quota"},
		"quota rps infinite":        {[]string{"--quota", "GetCase=Inf:1"}, "--quota"},
		"quota rps negative":        {[]string{"--quota", "GetCase=-3:1"}, "--quota"},
		"quota burst negative":      {[]string{"--quota", "GetCase=3:-1"}, "--quota"},
		"fault rate NaN":            {[]string{"--fault-rate", "UpdateCase=ThrottlingException:NaN"}, "--fault-rate"},
		"fault rate infinite":       {[]string{"--fault-rate", "UpdateCase=ThrottlingException:Inf"}, "--fault-rate"},
		"fault rate negative":       {[]string{"--fault-rate", "UpdateCase=ThrottlingException:-0.5"}, "--fault-rate"},
		"fault count negative":      {[]string{"--fault-count", "UpdateCase=ThrottlingException:-1"}, "--fault-count"},
		"retry-after negative":      {[]string{"--retry-after", "-1"}, "--retry-after"},
		"page size negative":        {[]string{"--get-case-page-size", "-5"}, "--get-case-page-size"},
		"shutdown timeout zero":     {[]string{"--shutdown-timeout", "0s"}, "--shutdown-timeout"},
		"shutdown timeout negative": {[]string{"--shutdown-timeout", "-1s"}, "--shutdown-timeout"},
		"latency below zero":        {[]string{"--latency", "UpdateCase=0s--5ms"}, "--latency"},
		"latency range reversed":    {[]string{"--latency", "UpdateCase=200ms-50ms"}, "--latency"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := parseFlags(tc.args, io.Discard)
			NewWithT(t).Expect(err).To(MatchError(ContainSubstring(tc.want)))
		})
	}
}

func TestParseFlagsTakesEveryFaultKind(t *testing.T) {
	g := NewWithT(t)
	cfg, err := parseFlags([]string{"--retry-after", "2",
		"--fault-count", "UpdateCase=ServiceUnavailable:1", "--fault-count", "UpdateCase=badgateway:1",
		"--fault-count", "UpdateCase=GatewayTimeout:1", "--fault-count", "UpdateCase=TooManyRequests:1",
		"--fault-count", "UpdateCase=ExpiredToken:1", "--fault-count", "UpdateCase=ConnectionReset:1"}, io.Discard)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cfg.faults).To(Equal([]emulator.Fault{
		{Operation: "UpdateCase", Kind: emulator.FaultServiceUnavailable, Count: 1, RetryAfterSeconds: 2},
		{Operation: "UpdateCase", Kind: emulator.FaultBadGateway, Count: 1, RetryAfterSeconds: 2},
		{Operation: "UpdateCase", Kind: emulator.FaultGatewayTimeout, Count: 1, RetryAfterSeconds: 2},
		{Operation: "UpdateCase", Kind: emulator.FaultTooManyRequests, Count: 1, RetryAfterSeconds: 2},
		{Operation: "UpdateCase", Kind: emulator.FaultExpiredToken, Count: 1, RetryAfterSeconds: 2},
		{Operation: "UpdateCase", Kind: emulator.FaultConnectionReset, Count: 1},
	}))
}

// calls reads the emulator's call log over its admin API.
func calls(g Gomega, url string) emulator.CallStats {
	resp, err := http.Get(url + "/_emulator/calls")
	g.Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	var st emulator.CallStats
	g.Expect(json.NewDecoder(resp.Body).Decode(&st)).To(Succeed())
	return st
}

func TestRunStopsWithinASecondOfTheSignal(t *testing.T) {
	g := NewWithT(t)
	url, _, stop := start(t, "--listen", "127.0.0.1:0", "--access-key-id", "AKIDCLI", "--secret-access-key", "cli-secret")
	unused, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	g.Expect(err).NotTo(HaveOccurred())
	defer unused.Close()
	// The server accepts connections in the order they were opened: once a
	// later one is answered, the unused one has been accepted too.
	probe := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := probe.Get(url + "/_emulator/healthz")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(resp.Body.Close()).To(Succeed())

	begin := time.Now()
	g.Expect(stop()).To(Succeed())
	took := time.Since(begin)
	t.Logf("Stopped %s after the signal with an unused connection open", took)
	g.Expect(took).To(BeNumerically("<", time.Second), "an unused connection does not hold the shutdown")
}

func TestRunFinishesRequestsInFlightOnShutdown(t *testing.T) {
	g := NewWithT(t)
	url, stderr, stop := start(t, "--listen", "127.0.0.1:0", "--access-key-id", "AKIDCLI", "--secret-access-key", "cli-secret",
		"--seed", "../../config/emulator/demo-seed.yaml", "--latency", "GetDomain=1500ms")
	answered := make(chan error, 1)
	go func() {
		_, err := client(url, "AKIDCLI", "cli-secret").GetDomain(context.Background(), &connectcases.GetDomainInput{DomainId: aws.String("demo-domain")})
		answered <- err
	}()
	g.Eventually(func(g Gomega) int { return calls(g, url).InFlight }, 30*time.Second, 10*time.Millisecond).Should(Equal(1))

	g.Expect(stop()).To(Succeed())
	var err error
	g.Eventually(answered, 30*time.Second).Should(Receive(&err))
	g.Expect(err).NotTo(HaveOccurred(), "the request in flight is answered before the emulator stops")
	g.Expect(stderr.String()).To(ContainSubstring("Stopped"))
}
