package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
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
	managerBin  string
	emulatorBin string
	// creators is how many goroutines create the objects.
	creators int
	// workers is the manager's --max-concurrent-reconciles and the raw
	// client's number of workers.
	workers int
	// timeout bounds the wait for all objects Ready in each run.
	timeout  time.Duration
	progress io.Writer
}

// runSpec is one run: a workload of n fresh objects in a namespace of its
// own, applied by a manager (with its emulator) or by the raw client.
type runSpec struct {
	scenario, variant string
	n                 int
	emulatorArgs      []string
	managerArgs       []string
	// raw applies the objects with the raw client instead of a manager.
	raw bool
}

// measurement is what one run measured.
type measurement struct {
	Scenario string `json:"scenario"`
	Variant  string `json:"variant"`
	Objects  int    `json:"objects"`
	Ready    int    `json:"ready"`
	// Complete is true when every object became Ready within the timeout.
	Complete bool `json:"complete"`
	// CreateSeconds is from the first create call to the last one returned.
	CreateSeconds float64 `json:"createSeconds"`
	// Seconds is T: from the first create call to the last object Ready,
	// as the watch delivered it.
	Seconds          float64 `json:"seconds"`
	ObjectsPerSecond float64 `json:"objectsPerSecond"`
	// LatencyP50Ms and LatencyP99Ms are from each create call's return to
	// the object Ready.
	LatencyP50Ms float64 `json:"latencyP50Ms"`
	LatencyP99Ms float64 `json:"latencyP99Ms"`
	// StatusWritesPerObject counts status changes delivered by the watch.
	StatusWritesPerObject float64 `json:"statusWritesPerObject"`
	WatchResyncs          int     `json:"watchResyncs"`
	StalledObjects        int     `json:"stalledObjects"`
	// UpdateCaseCalls and Throttled are the emulator's counts.
	UpdateCaseCalls   int                       `json:"updateCaseCalls"`
	Throttled         int                       `json:"throttled"`
	ThrottledFraction float64                   `json:"throttledFraction"`
	CallsPerObject    float64                   `json:"callsPerObject"`
	EmulatorCounts    map[string]map[string]int `json:"emulatorCounts,omitempty"`
	// PeakRSSBytes is the manager's VmHWM once every object was Ready.
	PeakRSSBytes int64 `json:"peakRssBytes,omitempty"`
	// ManagerCPUSeconds, EmulatorCPUSeconds and BenchCPUSeconds are the
	// CPU time of the manager and the emulator over their life, and of this
	// program (load generator, watch, raw client) during the run.
	ManagerCPUSeconds  float64 `json:"managerCpuSeconds,omitempty"`
	EmulatorCPUSeconds float64 `json:"emulatorCpuSeconds,omitempty"`
	BenchCPUSeconds    float64 `json:"benchCpuSeconds"`
	// MachineBusy is the fraction of the machine's CPU time that was busy
	// from the first create to the end of the wait, whoever used it.
	MachineBusy float64 `json:"machineBusy"`
	Error       string  `json:"error,omitempty"`
}

// run performs one run and measures it. A run that does not finish in time
// is reported with what it reached, not dropped.
func (e *env) run(ctx context.Context, s runSpec) (m measurement, err error) {
	m = measurement{Scenario: s.scenario, Variant: s.variant, Objects: s.n}
	name := fmt.Sprintf("bench-%s-%s", s.scenario, s.variant)
	e.step("%s: %d objects", name, s.n)
	if err := localenv.EnsureNamespace(ctx, e.c, name); err != nil {
		return m, err
	}

	var emu *localenv.Emulator
	var mgr *localenv.Process
	if !s.raw {
		seed := filepath.Join(e.dir, name+"-seed.yaml")
		if err := localenv.WriteSeed(seed, localenv.WorkloadSeed(benchDomain, s.n)); err != nil {
			return m, err
		}
		args := append([]string{"--seed", seed}, s.emulatorArgs...)
		if emu, err = localenv.StartEmulator(ctx, e.emulatorBin, filepath.Join(e.dir, name+"-emulator.log"), args...); err != nil {
			return m, err
		}
		defer func() { _ = emu.Stop(10 * time.Second) }()
		// Each manager caches only its run's namespace, so that the objects
		// of earlier runs weigh neither on its memory nor on its start.
		mgrArgs := append([]string{"--metrics-bind-address=0", "--health-probe-bind-address=0", "--watch-namespaces=" + name,
			fmt.Sprintf("--max-concurrent-reconciles=%d", e.workers)}, s.managerArgs...)
		if mgr, err = localenv.Start("manager", filepath.Join(e.dir, name+"-manager.log"),
			localenv.ManagerEnv(e.cp.Kubeconfig, emu.URL), e.managerBin, mgrArgs...); err != nil {
			return m, err
		}
		defer func() {
			if stopErr := mgr.Stop(30 * time.Second); stopErr != nil && err == nil {
				err = stopErr
			}
		}()
		startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		err := mgr.WaitForLog(startCtx, "Starting workers")
		cancel()
		if err != nil {
			return m, err
		}
	}

	labels := map[string]string{"bench.connectcases.dev/run": name}
	trackCtx, stopTracking := context.WithCancel(ctx)
	defer stopTracking()
	tracker, err := localenv.StartTracker(trackCtx, e.c, name, labels)
	if err != nil {
		return m, err
	}

	objs := make([]*casesv1alpha1.CaseFieldUpdate, s.n)
	for i := range objs {
		objs[i] = localenv.WorkloadObject(name, fmt.Sprintf("obj-%05d", i), benchDomain, i, labels)
	}
	var (
		applied   chan *casesv1alpha1.CaseFieldUpdate
		rawDone   sync.WaitGroup
		rawFailed atomic.Int64
	)
	if s.raw {
		applied = make(chan *casesv1alpha1.CaseFieldUpdate, s.n)
		for range e.workers {
			rawDone.Go(func() { rawFailed.Add(rawApply(ctx, e.c, applied)) })
		}
	}
	var (
		mu         sync.Mutex
		lastCreate time.Time
	)
	cpuBefore, err := localenv.ReadMachineCPU()
	if err != nil {
		return m, err
	}
	selfBefore := selfCPU()
	start := time.Now()
	err = localenv.CreateAll(ctx, e.c, objs, e.creators, func(obj *casesv1alpha1.CaseFieldUpdate, at time.Time) {
		tracker.Created(obj.Name, at)
		mu.Lock()
		if at.After(lastCreate) {
			lastCreate = at
		}
		mu.Unlock()
		if applied != nil {
			applied <- obj
		}
	})
	if applied != nil {
		close(applied)
	}
	if err != nil {
		return m, err
	}
	m.CreateSeconds = lastCreate.Sub(start).Seconds()

	waitCtx, cancel := context.WithTimeout(ctx, e.timeout)
	var done <-chan struct{} // a raw run has no process to exit
	if mgr != nil {
		done = mgr.Done()
	}
	waitErr := tracker.WaitReady(waitCtx, s.n, done)
	cancel()
	rawDone.Wait()
	if cpuAfter, err := localenv.ReadMachineCPU(); err == nil {
		m.MachineBusy = cpuAfter.BusySince(cpuBefore)
	}
	m.BenchCPUSeconds = (selfCPU() - selfBefore).Seconds()
	if n := rawFailed.Load(); n > 0 && waitErr == nil {
		waitErr = fmt.Errorf("%d status patches of the raw client failed", n)
	}
	if waitErr != nil {
		m.noteErr(waitErr)
		e.step("%s: %v", name, waitErr)
	}
	m.Complete = waitErr == nil
	summarise(&m, start, tracker)

	if emu != nil {
		calls, err := localenv.EmulatorCalls(ctx, emu.URL)
		if err != nil {
			return m, err
		}
		m.EmulatorCounts = calls.Counts
		m.UpdateCaseCalls = localenv.CallTotal(calls, "UpdateCase")
		m.Throttled = calls.Counts["UpdateCase"]["ThrottlingException"]
		m.CallsPerObject = float64(m.UpdateCaseCalls) / float64(s.n)
		if m.UpdateCaseCalls > 0 {
			m.ThrottledFraction = float64(m.Throttled) / float64(m.UpdateCaseCalls)
		}
	}
	// A process that exited early has no figures left to read; the run
	// then reports its error instead of aborting the benchmark.
	if mgr != nil {
		m.PeakRSSBytes, err = mgr.PeakRSS()
		m.noteErr(err)
		cpu, err := mgr.CPUTime()
		m.noteErr(err)
		m.ManagerCPUSeconds = cpu.Seconds()
	}
	if emu != nil {
		cpu, err := emu.CPUTime()
		m.noteErr(err)
		m.EmulatorCPUSeconds = cpu.Seconds()
	}
	return m, nil
}

// noteErr adds err, if any, to the run's error.
func (m *measurement) noteErr(err error) {
	if err == nil {
		return
	}
	if m.Error != "" {
		m.Error += "; "
	}
	m.Error += err.Error()
}

// summarise fills the figures that the watch tells.
func summarise(m *measurement, start time.Time, tracker *localenv.Tracker) {
	var (
		last      time.Time
		latencies []time.Duration
		writes    int
	)
	for _, tr := range tracker.Tracks() {
		writes += tr.StatusWrites
		if tr.Ready.IsZero() {
			continue
		}
		m.Ready++
		if tr.Ready.After(last) {
			last = tr.Ready
		}
		if !tr.Created.IsZero() {
			latencies = append(latencies, tr.Ready.Sub(tr.Created))
		}
	}
	if !last.IsZero() {
		m.Seconds = last.Sub(start).Seconds()
		m.ObjectsPerSecond = float64(m.Ready) / m.Seconds
	}
	slices.Sort(latencies)
	m.LatencyP50Ms = percentile(latencies, 0.50)
	m.LatencyP99Ms = percentile(latencies, 0.99)
	m.StatusWritesPerObject = float64(writes) / float64(m.Objects)
	m.WatchResyncs = tracker.Resyncs()
	stalled := map[string]bool{}
	for _, s := range tracker.Stalled() {
		stalled[s.Name] = true
	}
	m.StalledObjects = len(stalled)
}

// percentile returns the q-quantile of sorted durations in milliseconds
// (nearest rank).
func percentile(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := min(len(sorted)-1, max(0, int(q*float64(len(sorted))+0.5)-1))
	return float64(sorted[i].Microseconds()) / 1000
}

// rawApply is the raw client's worker: for each object it writes, with one
// status merge patch, the status the manager writes when UpdateCase
// succeeds. It is the floor of what any controller can reach on this API
// server: no informer, no AWS call, nothing but the patch. It returns how
// many patches failed.
func rawApply(ctx context.Context, c client.Client, objs <-chan *casesv1alpha1.CaseFieldUpdate) int64 {
	var failed int64
	for obj := range objs {
		before := obj.DeepCopy()
		now := metav1.Now()
		obj.Status.ObservedGeneration = obj.Generation
		obj.Status.LastAppliedTime = &now
		obj.Status.LastRequestID = rand.Text()
		obj.Status.Failures = 0
		meta.SetStatusCondition(&obj.Status.Conditions, metav1.Condition{
			Type: casesv1alpha1.ReadyCondition, Status: metav1.ConditionTrue, Reason: casesv1alpha1.AppliedReason,
			Message:            fmt.Sprintf("Applied %d fields to case %s in domain %s", len(obj.Spec.Fields), obj.Spec.CaseID, obj.Spec.DomainID),
			ObservedGeneration: obj.Generation,
		})
		if err := c.Status().Patch(ctx, obj, client.MergeFrom(before)); err != nil {
			failed++
		}
	}
	return failed
}

// selfCPU returns the CPU time this program has used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// step prints a progress line.
func (e *env) step(format string, args ...any) {
	fmt.Fprintf(e.progress, "==> "+format+"\n", args...)
}
