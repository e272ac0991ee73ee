// Command bench measures the operator at scale on this machine, with the
// real manager binary against a local kube-apiserver and the Connect Cases
// emulator, checks each figure against its goal, and exits non-zero when a
// run does not converge, when the emulator's cases differ from the specs,
// or when a goal is missed:
//
//   - A, quota-bound: N objects at once against an UpdateCase quota of Q
//     calls a second, the limiter told the quota. The operator should
//     finish in about N/Q, without throttled calls, with one UpdateCase
//     call per object. Peers: a typical controller (no client-side limiter,
//     the SDK's default retries, controller-runtime's default requeue on
//     error), and the operator without its limiter (an ablation).
//   - A2, unknown quota: A with the limiter starting at 5 x the quota.
//   - D, two accounts: A's N objects split between two namespaces, each
//     admitted by a CasesConnection that assumes a role in an account of
//     its own with A's quota Q, its limiter told that quota; the manager's
//     own user, in a third account, is trusted by both roles. The operator
//     should finish in about N/(2Q), without throttled calls.
//   - B, unthrottled: the operator's throughput to Ready against a raw peer
//     that writes the same status patch and the same Event per object on
//     the same API server, from a process of its own that watches the
//     namespace; interleaved rounds, their median and spread.
//   - C, memory: the manager's peak resident memory with 10,000 objects;
//     C2 the same with valueFrom and 10,000 Secrets and 10,000 ConfigMaps;
//     C3 a manager restart over C's 10,000 Ready objects.
//
// Each run has its own namespace, emulator and objects; each manager stops
// before the next run starts. make bench runs it; -scale and -only make
// shorter runs. Results go to a table on stdout, and to bench/results.json
// and bench/convergence.png.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/connectcases-operator/connectcases-operator/internal/localenv"
	"github.com/connectcases-operator/connectcases-operator/internal/testenv"
)

// Full sizes of the scenarios, the quota of scenarios A, A2 and D (of each
// account in D), the number of accounts of D, and the
// container memory limit of the managers (the chart's default).
const (
	sizeA       = 600
	sizeB       = 2000
	sizeC       = 10000
	quotaA      = 20
	accountsD   = 2
	hugeRPS     = "100000"
	memoryLimit = 128 << 20
)

// errGoalsMissed is returned when the benchmark ran but a check failed.
var errGoalsMissed = errors.New("a run did not converge, a case differs from its spec, or a goal was missed")

// options are the command line.
type options struct {
	scale    float64
	only     string
	out      string
	rounds   int
	creators int
	workers  int
	timeout  time.Duration
	keep     bool
	// pprof is the manager's --pprof-bind-address; "" leaves it off.
	pprof string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var o options
	flag.Float64Var(&o.scale, "scale", 1, "multiply every scenario's object count (at least 10 objects)")
	flag.StringVar(&o.only, "only", "A,A2,B,C,C2,C3,D", "scenarios to run, comma-separated (C3 runs with C)")
	flag.StringVar(&o.out, "out", filepath.Join("bench", "results.json"), "where to write the results, relative to the repository root unless absolute; the plot goes beside it")
	flag.IntVar(&o.rounds, "rounds", 5, "interleaved operator/raw rounds of B")
	flag.IntVar(&o.creators, "creators", 16, "goroutines that create the objects")
	flag.IntVar(&o.workers, "workers", 8, "the manager's --max-concurrent-reconciles, and the raw peer's workers")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "longest wait for all objects Ready in one run")
	flag.BoolVar(&o.keep, "keep", false, "keep the logs, seeds and kubeconfig")
	flag.StringVar(&o.pprof, "manager-pprof", "", "serve each manager's Go profiles on this address (--pprof-bind-address), for example 127.0.0.1:6060")
	rawNamespace := flag.String(rawPeerFlag, "", "run as the raw peer of B on this namespace (the benchmark starts it)")
	kubeconfig := flag.String("raw-peer-kubeconfig", "", "kubeconfig of the raw peer")
	flag.Parse()
	var err error
	if *rawNamespace != "" {
		err = runRawPeer(ctx, *kubeconfig, *rawNamespace, o.workers)
	} else {
		err = run(ctx, o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// run sets up the control plane and the binaries, runs the scenarios,
// reports them and checks the goals.
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

	e := &env{dir: dir, creators: o.creators, workers: o.workers, timeout: o.timeout, memoryLimit: memoryLimit, pprof: o.pprof, progress: os.Stdout}
	res := results{Date: time.Now().UTC().Format(time.RFC3339), Scale: o.scale, Workers: o.workers, Creators: o.creators,
		Machine: machine{CPUs: runtime.NumCPU(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, LoadAvgBefore: loadAvg()},
		Manager: managerMemory{GOGC: os.Getenv("GOGC"), GOMEMLIMIT: os.Getenv("GOMEMLIMIT"), ContainerLimitBytes: memoryLimit}}
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
	if e.api, err = newAPIServer(e.cp.Config); err != nil {
		return err
	}

	for _, s := range scenarios(o, only) {
		ms, err := e.run(ctx, s)
		if err != nil {
			return fmt.Errorf("run %s/%s: %w", s.scenario, s.variant, err)
		}
		res.Runs = append(res.Runs, ms...)
	}
	res.Machine.LoadAvgAfter = loadAvg()
	res.evaluate(quotaA)
	res.print(os.Stdout, quotaA)

	path := o.out
	if !filepath.IsAbs(path) {
		path = filepath.Join(root, path)
	}
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
	plotPath := filepath.Join(filepath.Dir(path), "convergence.png")
	if err := writePlot(plotPath, &res, quotaA); err != nil {
		return err
	}
	fmt.Println("wrote", plotPath)
	if !res.Pass {
		return errGoalsMissed
	}
	return nil
}

// scenarios returns the runs of the selected scenarios, in order. The
// rounds of B alternate which of the operator and the raw peer goes first,
// so that a drift of the machine weighs on both.
func scenarios(o options, only map[string]bool) []runSpec {
	scaled := func(n int) int { return max(10, int(math.Round(float64(n)*o.scale))) }
	unthrottledEmulator := []string{"--quota", "UpdateCase=0:0", "--quota", "GetCase=0:0"}
	unthrottledManager := []string{"--aws-rps", "UpdateCase=" + hugeRPS, "--aws-burst", "UpdateCase=" + hugeRPS}
	quota := []string{"--quota", fmt.Sprintf("UpdateCase=%d:%d", quotaA, quotaA)}
	limits := func(rps, burst int) []string {
		return []string{"--aws-rps", fmt.Sprintf("UpdateCase=%d", rps), "--aws-burst", fmt.Sprintf("UpdateCase=%d", burst)}
	}
	typical := []string{"--aws-client-rate-limit=false", "--aws-retry-mode=sdk-default", "--requeue-on-failure=controller-runtime"}
	var specs []runSpec
	if only["A"] {
		specs = append(specs,
			runSpec{scenario: "A", variant: variantOperator, n: scaled(sizeA), emulatorArgs: quota, managerArgs: limits(quotaA, quotaA)},
			runSpec{scenario: "A", variant: variantTypical, n: scaled(sizeA), emulatorArgs: quota, managerArgs: typical},
			runSpec{scenario: "A", variant: variantNoLimit, n: scaled(sizeA), emulatorArgs: quota,
				managerArgs: []string{"--aws-client-rate-limit=false"}})
	}
	if only["A2"] {
		// The limiter starts at 5 x the quota's rate, its burst the
		// service's: it must find the rate from the throttles.
		specs = append(specs,
			runSpec{scenario: "A2", variant: variantOperator, n: scaled(sizeA), emulatorArgs: quota, managerArgs: limits(5*quotaA, quotaA)},
			runSpec{scenario: "A2", variant: variantTypical, n: scaled(sizeA), emulatorArgs: quota, managerArgs: typical})
	}
	if only["D"] {
		specs = append(specs, runSpec{scenario: "D", variant: variantOperator, n: scaled(sizeA), accounts: accountsD, emulatorArgs: quota})
	}
	if only["B"] {
		for round := 1; round <= max(1, o.rounds); round++ {
			op := runSpec{scenario: "B", variant: variantOperator, round: round, n: scaled(sizeB), emulatorArgs: unthrottledEmulator, managerArgs: unthrottledManager}
			raw := runSpec{scenario: "B", variant: variantRaw, round: round, n: scaled(sizeB), raw: true}
			if round%2 == 0 {
				op, raw = raw, op
			}
			specs = append(specs, op, raw)
		}
	}
	if only["C"] || only["C3"] {
		specs = append(specs, runSpec{scenario: "C", variant: variantOperator, n: scaled(sizeC),
			emulatorArgs: unthrottledEmulator, managerArgs: unthrottledManager, restart: only["C3"]})
	}
	if only["C2"] {
		specs = append(specs, runSpec{scenario: "C2", variant: variantOperator, n: scaled(sizeC), valueFrom: true,
			emulatorArgs: unthrottledEmulator, managerArgs: append([]string{"--enable-value-from"}, unthrottledManager...)})
	}
	return specs
}
