package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/connectcases-operator/connectcases-operator/internal/localenv"
)

// memoryLimitEnv is the variable through which the manager learns its
// container's memory limit when no cgroup states one (see the manager's
// memory.go); the chart sets it from resources.limits.memory.
const memoryLimitEnv = "CONNECTCASES_MEMORY_LIMIT"

// createSources creates the Secret and the ConfigMap of each of the n
// objects of a valueFrom workload in namespace.
func createSources(ctx context.Context, c client.Client, namespace string, n, workers int) error {
	objs := make([]client.Object, 0, 2*n)
	for i := range n {
		secret, cm := localenv.WorkloadSources(namespace, objectName(i), i)
		objs = append(objs, secret, cm)
	}
	return localenv.CreateAll(ctx, c, objs, workers, nil)
}

// restart measures C3: a new manager started over n objects that are all
// Ready, against the same emulator. It should call AWS not at all, and
// reach its steady state (every object reconciled once, the queue empty)
// soon; its peak memory is that of a start over a full cache.
func (e *env) restart(ctx context.Context, namespace string, emu *localenv.Emulator, s runSpec) (measurement, error) {
	m := measurement{Scenario: "C3", Variant: variantOperator, Objects: s.n}
	e.step("%s: restart over %d Ready objects", namespace, s.n)
	callsBefore, err := localenv.EmulatorCalls(ctx, emu.URL)
	if err != nil {
		return m, err
	}
	addr, err := localenv.FreeAddr()
	if err != nil {
		return m, err
	}
	apiBefore, err := e.api.requests(ctx)
	if err != nil {
		return m, err
	}
	cpu := sampleCPU()
	start := time.Now()
	mgr, err := e.startManager(ctx, namespace, addr, emu.URL, s.managerArgs)
	if err != nil {
		return m, err
	}
	defer func() { _ = mgr.Stop(30 * time.Second) }()
	anon := sampleAnon(mgr)
	waitCtx, cancel := context.WithTimeout(ctx, e.timeout)
	steadyErr := waitSteady(waitCtx, "http://"+addr+"/metrics", s.n, mgr.Done())
	cancel()
	m.Seconds = time.Since(start).Seconds()
	m.Complete = steadyErr == nil
	m.noteErr(steadyErr)
	// A short look beyond the steady state, for a late call or write.
	localenv.Sleep(ctx, 2*time.Second)
	cpu.record(&m)
	callsAfter, err := localenv.EmulatorCalls(ctx, emu.URL)
	if err != nil {
		return m, err
	}
	for op := range callsAfter.Counts {
		m.AWSCalls += localenv.CallTotal(callsAfter, op) - localenv.CallTotal(callsBefore, op)
	}
	apiAfter, err := e.api.requests(ctx)
	if err != nil {
		return m, err
	}
	m.setRequests(apiAfter.since(apiBefore))
	m.Ready = s.n
	m.PeakRSSBytes, err = mgr.PeakRSS()
	m.noteErr(err)
	m.PeakAnonRSSBytes = anon.peakBytes()
	mcpu, err := mgr.CPUTime()
	m.noteErr(err)
	m.CPUSeconds["manager"] = mcpu.Seconds()
	return m, nil
}

// waitSteady polls the manager's metrics until it has reconciled at least
// n objects and its work queue is empty with no worker busy.
func waitSteady(ctx context.Context, url string, n int, exited <-chan struct{}) error {
	var last controllerState
	for {
		st, err := scrapeController(ctx, url)
		if err == nil {
			last = st
			if st.reconciles >= float64(n) && st.depth == 0 && st.active == 0 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no steady state: %.0f reconciles of %d objects, queue depth %.0f: %w", last.reconciles, n, last.depth, ctx.Err())
		case <-exited:
			return fmt.Errorf("the manager exited before its steady state")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// controllerState is what the manager's metrics tell of its controller.
type controllerState struct {
	reconciles, depth, active float64
}

// scrapeController reads the controller's reconcile count, queue depth and
// busy workers from the manager's metrics.
func scrapeController(ctx context.Context, url string) (controllerState, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return controllerState{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return controllerState{}, err
	}
	defer resp.Body.Close()
	return parseControllerState(resp.Body), nil
}

// parseControllerState sums the samples of the controller-runtime metrics
// that tell whether a manager is idle.
func parseControllerState(r io.Reader) controllerState {
	var st controllerState
	forEachSample(r, func(name, _ string, v float64) {
		switch name {
		case "controller_runtime_reconcile_total":
			st.reconciles += v
		case "workqueue_depth":
			st.depth += v
		case "controller_runtime_active_workers":
			st.active += v
		}
	})
	return st
}

// anonSampler follows the peak of a process's resident anonymous memory:
// the kernel keeps no high-water mark of it, so it is read every 100 ms.
type anonSampler struct {
	stop chan struct{}
	done chan struct{}
	peak int64
}

// sampleAnon starts sampling p until stopped.
func sampleAnon(p *localenv.Process) *anonSampler {
	s := &anonSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			if v, err := p.RSSAnon(); err == nil {
				s.peak = max(s.peak, v)
			}
			select {
			case <-s.stop:
				return
			case <-p.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

// peakBytes stops the sampling and returns the peak seen.
func (s *anonSampler) peakBytes() int64 {
	close(s.stop)
	<-s.done
	return s.peak
}
