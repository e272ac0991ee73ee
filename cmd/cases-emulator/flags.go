package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/connectcases-operator/connectcases-operator/internal/emulator"
)

// config is the parsed command line.
type config struct {
	listen          string
	region          string
	accountID       string
	accessKeyID     string
	secretAccessKey string
	seedPath        string
	quotas          map[string]emulator.Quota
	faults          []emulator.Fault
	randomSeed      int64
	pageSize        int
	verbose         bool
	shutdownTimeout time.Duration
}

// listFlag collects a repeatable flag.
type listFlag []string

// String implements flag.Value.
func (l *listFlag) String() string { return strings.Join(*l, ",") }

// Set implements flag.Value.
func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// parseFlags parses the command line; usage and errors go to stderr.
func parseFlags(args []string, stderr io.Writer) (*config, error) {
	cfg := &config{quotas: map[string]emulator.Quota{}}
	fs := flag.NewFlagSet("cases-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.listen, "listen", "127.0.0.1:8080", "address to listen on; port 0 picks a free one")
	fs.StringVar(&cfg.region, "region", "us-east-1", "AWS region requests must be signed for")
	fs.StringVar(&cfg.accountID, "account-id", emulator.DefaultAccountID, "AWS account id in ARNs")
	fs.StringVar(&cfg.accessKeyID, "access-key-id", "", "access key id of a principal allowed every action on every domain "+
		"(a seed principal with the same key keeps its own permissions)")
	fs.StringVar(&cfg.secretAccessKey, "secret-access-key", "", "secret access key of that principal")
	fs.StringVar(&cfg.seedPath, "seed", "", "YAML seed file with principals, domains, fields, templates and cases")
	updateRPS := fs.Float64("update-rps", 0, "UpdateCase quota in requests per second (default 2)")
	updateBurst := fs.Int("update-burst", 0, "UpdateCase quota burst (default 2)")
	var quotas, rates, counts, latencies listFlag
	fs.Var(&quotas, "quota", "OP=RPS:BURST quota of an operation (repeatable; RPS 0 disables it)")
	fs.Var(&rates, "fault-rate", "OP=KIND:RATE inject KIND ("+strings.Join(failingKinds(), ", ")+") "+
		"into a fraction RATE of OP calls; OP may be * (repeatable)")
	fs.Var(&counts, "fault-count", "OP=KIND:N inject KIND into the next N OP calls (repeatable)")
	fs.Var(&latencies, "latency", "OP=MIN-MAX or OP=DURATION delay added to every OP call, e.g. UpdateCase=50ms-200ms (repeatable)")
	retryAfter := fs.Int("retry-after", 0, "Retry-After seconds sent with injected error answers (every KIND but ConnectionReset)")
	fs.Int64Var(&cfg.randomSeed, "random-seed", 1, "seed of the random streams of rate faults and latency ranges")
	fs.IntVar(&cfg.pageSize, "get-case-page-size", 0, "field values per GetCase page (default 100)")
	fs.BoolVar(&cfg.verbose, "verbose", false, "log every request")
	fs.DurationVar(&cfg.shutdownTimeout, "shutdown-timeout", 10*time.Second, "how long to wait for requests in flight on shutdown")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if (cfg.accessKeyID == "") != (cfg.secretAccessKey == "") {
		return nil, errors.New("--access-key-id and --secret-access-key go together")
	}
	if err := errors.Join(
		checkFloat("update-rps", *updateRPS, 0),
		checkInt("update-burst", *updateBurst, 0),
		checkInt("retry-after", *retryAfter, 0),
		checkInt("get-case-page-size", cfg.pageSize, 0),
	); err != nil {
		return nil, err
	}
	if cfg.shutdownTimeout <= 0 {
		return nil, fmt.Errorf("invalid --shutdown-timeout %s: must be above 0", cfg.shutdownTimeout)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["update-rps"] || set["update-burst"] {
		q := emulator.DefaultQuota("UpdateCase")
		if set["update-rps"] {
			q.RPS = *updateRPS
		}
		if set["update-burst"] {
			q.Burst = *updateBurst
		}
		cfg.quotas["UpdateCase"] = q
	}
	for _, v := range quotas {
		op, q, err := parseQuota(v)
		if err != nil {
			return nil, err
		}
		cfg.quotas[op] = q
	}
	for _, spec := range []struct {
		values  listFlag
		counted bool
	}{{rates, false}, {counts, true}} {
		for _, v := range spec.values {
			f, err := parseFault(v, spec.counted, *retryAfter)
			if err != nil {
				return nil, err
			}
			cfg.faults = append(cfg.faults, f)
		}
	}
	for _, v := range latencies {
		f, err := parseLatency(v)
		if err != nil {
			return nil, err
		}
		cfg.faults = append(cfg.faults, f)
	}
	return cfg, nil
}

// parseQuota parses OP=RPS:BURST.
func parseQuota(v string) (string, emulator.Quota, error) {
	op, spec, ok := strings.Cut(v, "=")
	rps, burst, ok2 := strings.Cut(spec, ":")
	if !ok || !ok2 || op == "" {
		return "", emulator.Quota{}, fmt.Errorf("invalid --quota %q: want OP=RPS:BURST", v)
	}
	r, err := strconv.ParseFloat(rps, 64)
	if err == nil && (math.IsNaN(r) || math.IsInf(r, 0) || r < 0) {
		err = errors.New("must be a finite number, 0 or more")
	}
	if err != nil {
		return "", emulator.Quota{}, fmt.Errorf("invalid --quota %q: rps: %w", v, err)
	}
	b, err := strconv.Atoi(burst)
	if err == nil && b < 0 {
		err = errors.New("must be 0 or more")
	}
	if err != nil {
		return "", emulator.Quota{}, fmt.Errorf("invalid --quota %q: burst: %w", v, err)
	}
	return op, emulator.Quota{RPS: r, Burst: b}, nil
}

// checkFloat rejects a float flag that is NaN, infinite or below least.
func checkFloat(name string, v, least float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < least {
		return fmt.Errorf("invalid --%s %v: must be a finite number, %g or more", name, v, least)
	}
	return nil
}

// checkInt rejects an integer flag below least.
func checkInt(name string, v, least int) error {
	if v < least {
		return fmt.Errorf("invalid --%s %d: must be %d or more", name, v, least)
	}
	return nil
}

// failingKinds are the fault kinds --fault-rate and --fault-count inject:
// every kind but Latency, which --latency sets.
func failingKinds() []string {
	var out []string
	for _, k := range emulator.FaultKinds() {
		if k != emulator.FaultLatency {
			out = append(out, k)
		}
	}
	return out
}

// faultKind returns the fault kind spelt kind, in any case.
func faultKind(kind string) (string, bool) {
	for _, k := range failingKinds() {
		if strings.EqualFold(k, kind) {
			return k, true
		}
	}
	return "", false
}

// parseFault parses OP=KIND:RATE, or OP=KIND:N when counted.
func parseFault(v string, counted bool, retryAfter int) (emulator.Fault, error) {
	name := "--fault-rate"
	if counted {
		name = "--fault-count"
	}
	op, spec, ok := strings.Cut(v, "=")
	kind, amount, ok2 := strings.Cut(spec, ":")
	if !ok || !ok2 || op == "" {
		return emulator.Fault{}, fmt.Errorf("invalid %s %q: want OP=KIND:%s", name, v, map[bool]string{true: "N", false: "RATE"}[counted])
	}
	k, known := faultKind(kind)
	if !known {
		return emulator.Fault{}, fmt.Errorf("invalid %s %q: kind must be one of %s", name, v, strings.Join(failingKinds(), ", "))
	}
	f := emulator.Fault{Operation: op, Kind: k}
	if k != emulator.FaultConnectionReset {
		f.RetryAfterSeconds = retryAfter
	}
	var err error
	if counted {
		f.Count, err = strconv.Atoi(amount)
	} else {
		f.Rate, err = strconv.ParseFloat(amount, 64)
	}
	if err != nil {
		return emulator.Fault{}, fmt.Errorf("invalid %s %q: %w", name, v, err)
	}
	if err := f.Validate(); err != nil {
		return emulator.Fault{}, fmt.Errorf("invalid %s %q: %w", name, v, err)
	}
	return f, nil
}

// parseLatency parses OP=MIN-MAX or OP=DURATION into a Latency fault that
// hits every call.
func parseLatency(v string) (emulator.Fault, error) {
	op, spec, ok := strings.Cut(v, "=")
	if !ok || op == "" {
		return emulator.Fault{}, fmt.Errorf("invalid --latency %q: want OP=MIN-MAX", v)
	}
	lo, hi, isRange := strings.Cut(spec, "-")
	minLatency, err := time.ParseDuration(lo)
	if err != nil {
		return emulator.Fault{}, fmt.Errorf("invalid --latency %q: %w", v, err)
	}
	maxLatency := minLatency
	if isRange {
		if maxLatency, err = time.ParseDuration(hi); err != nil {
			return emulator.Fault{}, fmt.Errorf("invalid --latency %q: %w", v, err)
		}
		if maxLatency < minLatency {
			return emulator.Fault{}, fmt.Errorf("invalid --latency %q: the maximum is below the minimum", v)
		}
	}
	f := emulator.Fault{Operation: op, Kind: emulator.FaultLatency, Rate: 1, MinLatency: minLatency, MaxLatency: maxLatency}
	if err := f.Validate(); err != nil {
		return emulator.Fault{}, fmt.Errorf("invalid --latency %q: %w", v, err)
	}
	return f, nil
}
