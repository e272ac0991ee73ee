// Command bench measures the operator at scale on this machine, with the
// real manager binary against a local kube-apiserver and the Connect Cases
// emulator, and prints each figure beside its goal:
//
//   - A, quota-bound: N objects at once against an UpdateCase quota of Q
//     calls a second. The operator should finish in about N/Q, without
//     throttled calls, with one UpdateCase call and one status write per
//     object. The same workload runs against a manager configured like a
//     naive controller (no client-side rate limit, the SDK's standard
//     retryer), as the peer.
//   - B, unthrottled: the operator's throughput to Ready against a raw
//     client that only writes the same status patch per object, on the same
//     API server; and the create-to-Ready latency.
//   - C, memory: the manager's peak resident memory with 10,000 objects.
//
// Each run has its own namespace, emulator and objects; each manager stops
// before the next run starts. make bench runs it; -scale and -only make
// shorter runs. Results go to a table on stdout and to bench/results.json.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/connectcases-operator/connectcases-operator/internal/localenv"
	"github.com/connectcases-operator/connectcases-operator/internal/testenv"
)

// Full sizes of the scenarios, and the quota of scenario A.
const (
	sizeA   = 600
	sizeB   = 2000
	sizeC   = 10000
	quotaA  = 20
	hugeRPS = "100000"
)

// options are the command line.
type options struct {
	scale    float64
	only     string
	out      string
	creators int
	workers  int
	timeout  time.Duration
	keep     bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var o options
	flag.Float64Var(&o.scale, "scale", 1, "multiply every scenario's object count (at least 10 objects)")
	flag.StringVar(&o.only, "only", "A,B,C", "scenarios to run, comma-separated")
	flag.StringVar(&o.out, "out", filepath.Join("bench", "results.json"), "where to write the results, relative to the repository root")
	flag.IntVar(&o.creators, "creators", 16, "goroutines that create the objects")
	flag.IntVar(&o.workers, "workers", 8, "the manager's --max-concurrent-reconciles, and the raw client's workers")
	flag.DurationVar(&o.timeout, "timeout", 20*time.Minute, "longest wait for all objects Ready in one run")
	flag.BoolVar(&o.keep, "keep", false, "keep the logs, seeds and kubeconfig")
	flag.Parse()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// run sets up the control plane and the binaries, runs the scenarios and
// reports them.
func run(ctx context.Context, o options) error {
	only := map[string]bool{}
	for s := range strings.SplitSeq(strings.ToUpper(o.only), ",") {
		if s = strings.TrimSpace(s); s != "" {
			only[s] = true
		}
	}
	root, err := testenv.RepoRoot()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "connectcases-bench-")
	if err != nil {
		return err
	}
	defer func() {
		if o.keep {
			fmt.Println("logs, seeds and kubeconfig kept in", dir)
			return
		}
		_ = os.RemoveAll(dir)
	}()

	e := &env{dir: dir, creators: o.creators, workers: o.workers, timeout: o.timeout, progress: os.Stdout}
	e.step("Building the manager and the emulator")
	if e.managerBin, e.emulatorBin, err = localenv.Build(ctx, root, dir); err != nil {
		return err
	}
	e.step("Starting the local control plane")
	if e.cp, err = localenv.StartControlPlane(dir); err != nil {
		return err
	}
	defer func() { _ = e.cp.Stop() }()
	if e.c, err = localenv.NewClient(e.cp.Config); err != nil {
		return err
	}

	res := results{Date: time.Now().UTC().Format(time.RFC3339), CPUs: runtime.NumCPU(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH,
		Scale: o.scale, Workers: o.workers, Creators: o.creators, LoadAvg: loadAvg()}
	specs := scenarios(o, only)
	for _, s := range specs {
		m, err := e.run(ctx, s)
		if err != nil {
			return fmt.Errorf("run %s/%s: %w", s.scenario, s.variant, err)
		}
		res.Runs = append(res.Runs, m)
	}
	res.evaluate(quotaA)
	res.print(os.Stdout, quotaA)

	path := filepath.Join(root, o.out)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Println("\nwrote", path)
	return nil
}

// loadAvg returns the machine's 1, 5 and 15 minute load averages, which
// tell whether something else competed for its cores.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// scenarios returns the runs of the selected scenarios, in order.
func scenarios(o options, only map[string]bool) []runSpec {
	scaled := func(n int) int { return max(10, int(math.Round(float64(n)*o.scale))) }
	unthrottledEmulator := []string{"--quota", "UpdateCase=0:0", "--quota", "GetCase=0:0"}
	unthrottledManager := []string{"--aws-rps", "UpdateCase=" + hugeRPS, "--aws-burst", "UpdateCase=" + hugeRPS}
	var specs []runSpec
	if only["A"] {
		quota := []string{"--quota", fmt.Sprintf("UpdateCase=%d:%d", quotaA, quotaA)}
		specs = append(specs,
			runSpec{scenario: "a", variant: "operator", n: scaled(sizeA), emulatorArgs: quota,
				managerArgs: []string{"--aws-rps", fmt.Sprintf("UpdateCase=%d", quotaA), "--aws-burst", fmt.Sprintf("UpdateCase=%d", quotaA)}},
			runSpec{scenario: "a", variant: "naive", n: scaled(sizeA), emulatorArgs: quota,
				managerArgs: []string{"--aws-client-rate-limit=false", "--aws-retry-mode=sdk-default"}})
	}
	if only["B"] {
		specs = append(specs,
			runSpec{scenario: "b", variant: "operator", n: scaled(sizeB), emulatorArgs: unthrottledEmulator, managerArgs: unthrottledManager},
			runSpec{scenario: "b", variant: "raw", n: scaled(sizeB), raw: true})
	}
	if only["C"] {
		specs = append(specs, runSpec{scenario: "c", variant: "operator", n: scaled(sizeC),
			emulatorArgs: unthrottledEmulator, managerArgs: unthrottledManager})
	}
	return slices.Clip(specs)
}
