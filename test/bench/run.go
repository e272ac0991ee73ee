package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/emulator"
	"github.com/connectcases-operator/connectcases-operator/internal/localenv"
)

// benchDomain is the Cases domain of every run's seed.
const benchDomain = "bench-domain"

// env is what every run shares: the control plane, the binaries and the
// load generator's settings.
type env struct {
	dir         string
	cp          *localenv.ControlPlane
	c           client.WithWatch
	api         *apiServer
	managerBin  string
	emulatorBin string
	// creators is how many goroutines create the objects.
	creators int
	// workers is the manager's --max-concurrent-reconciles and the raw
	// peer's number of workers.
	workers int
	// memoryLimit is the container memory limit handed to every manager.
	memoryLimit int64
	// timeout bounds the wait for all objects Ready in each run.
	timeout time.Duration
	// pprof is the managers' --pprof-bind-address, "" for none: one
	// manager runs at a time, so they can share it.
	pprof    string
	progress io.Writer
}

// runSpec is one run: a workload of n fresh objects in a namespace of its
// own, applied by a manager (with its emulator) or by the raw peer.
type runSpec struct {
	scenario, variant string
	// round numbers the repeats of a scenario, from 1.
	round        int
	n            int
	emulatorArgs []string
	managerArgs  []string
	// raw applies the objects with the raw peer instead of a manager.
	raw bool
	// valueFrom reads two fields of each object from a Secret and a
	// ConfigMap of its own, created before the manager starts.
	valueFrom bool
	// restart stops the manager once every object is Ready and starts a
	// new one, measured as scenario C3.
	restart bool
	// accounts, when above zero, splits the objects between as many
	// namespaces, each admitted by a CasesConnection that assumes a role
	// in an account of its own, with the account's quota as its limit.
	accounts int
}

// run performs one run and measures it; a restart run also returns the
// measurement of C3. A run that does not finish in time is reported with
// what it reached, not dropped.
func (e *env) run(ctx context.Context, s runSpec) ([]measurement, error) {
	m := measurement{Scenario: s.scenario, Variant: s.variant, Round: s.round, Objects: s.n, Accounts: s.accounts}
	name := namespaceOf(s)
	e.step("%s: %d objects", name, s.n)
	labels := map[string]string{"bench.connectcases.dev/run": name}
	// The manager watches the namespaces of watch, the tracker those of
	// track ("" for all), and the seed is the emulator's state.
	watch, track, seed := []string{name}, name, localenv.WorkloadSeed(benchDomain, s.n)
	mismatches := func(cases map[string]map[string]map[string]emulator.FieldValue) []string {
		return localenv.WorkloadMismatches(cases[benchDomain], s.n)
	}
	procEnv := []string(nil)
	var accounts *accountsRun
	if s.accounts > 0 {
		accounts = newAccountsRun(name, s.n, s.accounts, labels)
		if err := accounts.ensureNamespaces(ctx, e.c); err != nil {
			return nil, err
		}
		watch, track, seed, mismatches = accounts.namespaces(), "", accounts.seed(), accounts.mismatches
	} else if err := localenv.EnsureNamespace(ctx, e.c, name); err != nil {
		return nil, err
	}
	if s.valueFrom {
		e.step("%s: %d Secrets and %d ConfigMaps", name, s.n, s.n)
		if err := createSources(ctx, e.c, name, s.n, e.creators); err != nil {
			return nil, err
		}
	}
	objs := make([]*casesv1alpha1.CaseFieldUpdate, s.n)
	for i := range objs {
		switch {
		case accounts != nil:
			objs[i] = accounts.objs[i]
		case s.valueFrom:
			objs[i] = localenv.WorkloadObjectFromSources(name, objectName(i), benchDomain, i, labels)
		default:
			objs[i] = localenv.WorkloadObject(name, objectName(i), benchDomain, i, labels)
		}
	}

	var (
		emu  *localenv.Emulator
		mgr  *localenv.Process
		anon *anonSampler
		err  error
	)
	if !s.raw {
		seedPath := filepath.Join(e.dir, name+"-seed.yaml")
		if err := localenv.WriteSeed(seedPath, seed); err != nil {
			return nil, err
		}
		args := append([]string{"--seed", seedPath}, s.emulatorArgs...)
		if emu, err = localenv.StartEmulator(ctx, e.emulatorBin, filepath.Join(e.dir, name+"-emulator.log"), args...); err != nil {
			return nil, err
		}
		defer func() { _ = emu.Stop(10 * time.Second) }()
		if accounts != nil {
			procEnv = localenv.ManagerEnvWithCredentials(e.cp.Kubeconfig, emu.URL, baseUserKey, baseUserSecret)
		}
		if mgr, err = e.startManagerWith(ctx, name, watch, "", emu.URL, procEnv, s.managerArgs); err != nil {
			return nil, err
		}
		defer func() { _ = mgr.Stop(30 * time.Second) }()
		anon = sampleAnon(mgr)
		if accounts != nil {
			e.step("%s: %d CasesConnections", name, s.accounts)
			if err := accounts.connect(ctx, e.c, emu.URL, quotaA); err != nil {
				return nil, err
			}
		}
	}

	trackCtx, stopTracking := context.WithCancel(ctx)
	defer stopTracking()
	tracker, err := localenv.StartTracker(trackCtx, e.c, track, labels)
	if err != nil {
		return nil, err
	}
	if s.raw {
		if mgr, err = e.startRawPeer(ctx, name); err != nil {
			return nil, err
		}
		defer func() { _ = mgr.Stop(30 * time.Second) }()
	}
	apiBefore, err := e.api.requests(ctx)
	if err != nil {
		return nil, err
	}
	cpu := sampleCPU()
	start := time.Now()
	var (
		mu         sync.Mutex
		lastCreate time.Time
	)
	err = localenv.CreateAll(ctx, e.c, objs, e.creators, func(obj *casesv1alpha1.CaseFieldUpdate, at time.Time) {
		tracker.Created(obj.Name, at)
		mu.Lock()
		lastCreate = maxTime(lastCreate, at)
		mu.Unlock()
	})
	if err != nil {
		return nil, err
	}
	m.CreateSeconds = lastCreate.Sub(start).Seconds()

	waitCtx, cancel := context.WithTimeout(ctx, e.timeout)
	waitErr := tracker.WaitReady(waitCtx, s.n, mgr.Done())
	cancel()
	cpu.record(&m)
	if waitErr != nil {
		m.noteErr(waitErr)
		e.step("%s: %v", name, waitErr)
	}
	m.Complete = waitErr == nil
	summarise(&m, start, tracker)
	apiAfter, err := e.api.settledRequests(ctx, 15*time.Second)
	if err != nil {
		return nil, err
	}
	m.setRequests(apiAfter.since(apiBefore))

	if emu != nil {
		e.readEmulator(ctx, &m, emu.URL, s.n, mismatches)
	}
	// A process that exited early has no figures left to read; the run
	// then reports its error instead of aborting the benchmark.
	m.PeakRSSBytes, err = mgr.PeakRSS()
	m.noteErr(err)
	if anon != nil {
		m.PeakAnonRSSBytes = anon.peakBytes()
	}
	procCPU, err := mgr.CPUTime()
	m.noteErr(err)
	m.CPUSeconds[map[bool]string{false: "manager", true: "raw peer"}[s.raw]] = procCPU.Seconds()
	if emu != nil {
		cpu, err := emu.CPUTime()
		m.noteErr(err)
		m.CPUSeconds["emulator"] = cpu.Seconds()
	}
	out := []measurement{m}
	if s.restart && !s.raw {
		if err := mgr.Stop(30 * time.Second); err != nil {
			m.noteErr(err)
		}
		r, err := e.restart(ctx, name, emu, s)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// startManager starts a manager that watches namespace and waits until its
// workers run. Each manager caches only its run's namespace, so that the
// objects of earlier runs weigh neither on its memory nor on its start.
func (e *env) startManager(ctx context.Context, namespace, metricsAddr, url string, extra []string) (*localenv.Process, error) {
	return e.startManagerWith(ctx, namespace, []string{namespace}, metricsAddr, url, nil, extra)
}

// startManagerWith is startManager for the namespaces of watch, its log
// named after run, with procEnv as its environment (nil: the emulator's
// demo credentials).
func (e *env) startManagerWith(ctx context.Context, run string, watch []string, metricsAddr, url string, procEnv, extra []string) (*localenv.Process, error) {
	if metricsAddr == "" {
		metricsAddr = "0"
	}
	args := append([]string{"--metrics-bind-address=" + metricsAddr, "--health-probe-bind-address=0", "--watch-namespaces=" + strings.Join(watch, ","),
		fmt.Sprintf("--max-concurrent-reconciles=%d", e.workers)}, extra...)
	if e.pprof != "" {
		args = append(args, "--pprof-bind-address="+e.pprof)
	}
	if procEnv == nil {
		procEnv = localenv.ManagerEnv(e.cp.Kubeconfig, url)
	}
	procEnv = append(procEnv, memoryLimitEnv+"="+strconv.FormatInt(e.memoryLimit, 10))
	log := filepath.Join(e.dir, fmt.Sprintf("%s-manager-%d.log", run, time.Now().UnixNano()))
	mgr, err := localenv.Start("manager", log, procEnv, e.managerBin, args...)
	if err != nil {
		return nil, err
	}
	startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := mgr.WaitForLog(startCtx, "Starting workers"); err != nil {
		_ = mgr.Stop(10 * time.Second)
		return nil, err
	}
	return mgr, nil
}

// startRawPeer starts this program as the raw peer of namespace, and waits
// until it watches.
func (e *env) startRawPeer(ctx context.Context, namespace string) (*localenv.Process, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	log := filepath.Join(e.dir, namespace+"-raw-peer.log")
	p, err := localenv.Start("raw peer", log, nil, self, "-"+rawPeerFlag+"="+namespace, "-raw-peer-kubeconfig="+e.cp.Kubeconfig,
		fmt.Sprintf("-workers=%d", e.workers))
	if err != nil {
		return nil, err
	}
	startCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := p.WaitForLog(startCtx, "Watching"); err != nil {
		_ = p.Stop(10 * time.Second)
		return nil, err
	}
	return p, nil
}

// readEmulator fills the emulator's call counts and compares its cases with
// the specs, mismatches describing every case that differs.
func (e *env) readEmulator(ctx context.Context, m *measurement, url string, n int,
	mismatches func(cases map[string]map[string]map[string]emulator.FieldValue) []string) {
	calls, err := localenv.EmulatorCalls(ctx, url)
	if err != nil {
		m.noteErr(err)
		return
	}
	m.EmulatorCounts = calls.Counts
	m.UpdateCaseCalls = localenv.CallTotal(calls, "UpdateCase")
	m.Throttled = calls.Counts["UpdateCase"]["ThrottlingException"]
	m.CallsPerObject = float64(m.UpdateCaseCalls) / float64(n)
	for op := range calls.Counts {
		m.AWSCalls += localenv.CallTotal(calls, op)
	}
	if m.UpdateCaseCalls > 0 {
		m.ThrottledFraction = float64(m.Throttled) / float64(m.UpdateCaseCalls)
	}
	cases, err := localenv.EmulatorCases(ctx, url)
	if err != nil {
		m.noteErr(err)
		return
	}
	differ := mismatches(cases)
	m.StateChecked = true
	m.StateMismatches = len(differ)
	m.MismatchExamples = differ[:min(len(differ), 5)]
}

// namespaceOf names the namespace of a run.
func namespaceOf(s runSpec) string {
	variant := map[string]string{variantOperator: "operator", variantTypical: "typical", variantNoLimit: "nolimit", variantRaw: "raw"}[s.variant]
	name := fmt.Sprintf("bench-%s-%s", s.scenario, variant)
	if s.round > 0 {
		name += fmt.Sprintf("-%d", s.round)
	}
	return strings.ToLower(name)
}

// objectName names object i of a run.
func objectName(i int) string { return fmt.Sprintf("obj-%05d", i) }

// step prints a progress line.
func (e *env) step(format string, args ...any) {
	fmt.Fprintf(e.progress, "==> "+format+"\n", args...)
}
