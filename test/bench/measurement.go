package main

import (
	"slices"
	"syscall"
	"time"

	"github.com/connectcases-operator/connectcases-operator/internal/localenv"
)

// measurement is what one run measured.
type measurement struct {
	Scenario string `json:"scenario"`
	Variant  string `json:"variant"`
	Round    int    `json:"round,omitempty"`
	Objects  int    `json:"objects"`
	// Accounts is how many accounts, each with its own quota, the objects
	// were split between; 0 for the runs with the operator's own identity.
	Accounts int `json:"accounts,omitempty"`
	Ready    int `json:"ready"`
	// Complete is true when every object became Ready within the timeout
	// (for C3: when the restarted manager reached its steady state).
	Complete bool `json:"complete"`
	// CreateSeconds is from the first create call to the last one returned.
	CreateSeconds float64 `json:"createSeconds"`
	// Seconds is T: from the first create call to the last object Ready,
	// as the watch delivered it (for C3: from the manager's start to its
	// steady state).
	Seconds          float64 `json:"seconds"`
	ObjectsPerSecond float64 `json:"objectsPerSecond"`
	// LatencyP50Ms and LatencyP99Ms are from each create call's return to
	// the object Ready.
	LatencyP50Ms float64 `json:"latencyP50Ms"`
	LatencyP99Ms float64 `json:"latencyP99Ms"`
	// ReadyAt are the seconds from the first create at which the objects
	// became Ready, in order, thinned to at most 200 points for the plot.
	ReadyAt []float64 `json:"readyAt,omitempty"`
	// StatusWritesPerObject counts status changes delivered by the watch.
	StatusWritesPerObject float64 `json:"statusWritesPerObject"`
	WatchResyncs          int     `json:"watchResyncs"`
	StalledObjects        int     `json:"stalledObjects"`
	// UpdateCaseCalls and Throttled are the emulator's counts; AWSCalls
	// counts every operation.
	UpdateCaseCalls   int                       `json:"updateCaseCalls"`
	Throttled         int                       `json:"throttled"`
	ThrottledFraction float64                   `json:"throttledFraction"`
	CallsPerObject    float64                   `json:"callsPerObject"`
	AWSCalls          int                       `json:"awsCalls"`
	EmulatorCounts    map[string]map[string]int `json:"emulatorCounts,omitempty"`
	// StateChecked is true when the emulator's cases were compared with
	// the specs; StateMismatches counts the differing field values, and
	// MismatchExamples shows a few.
	StateChecked     bool     `json:"stateChecked"`
	StateMismatches  int      `json:"stateMismatches"`
	MismatchExamples []string `json:"mismatchExamples,omitempty"`
	// APIRequests are the API server's requests during the run, from its
	// apiserver_request_total, by "VERB resource"; APIRequestsPerObject
	// divides them by the objects.
	APIRequests          apiCounts `json:"apiRequests"`
	APIRequestsPerObject apiCounts `json:"apiRequestsPerObject"`
	// PeakRSSBytes is the manager's VmHWM at the end of the run;
	// PeakAnonRSSBytes the peak of its RssAnon, sampled every 100 ms: the
	// resident memory that a cgroup cannot reclaim.
	PeakRSSBytes     int64 `json:"peakRssBytes,omitempty"`
	PeakAnonRSSBytes int64 `json:"peakAnonRssBytes,omitempty"`
	// CPUSeconds is the CPU time of each process during the run: manager
	// and emulator (their whole life), kube-apiserver and etcd, and the
	// load generator (this program: creates, watch, raw peer).
	CPUSeconds map[string]float64 `json:"cpuSeconds"`
	// MachineBusy is the fraction of the machine's CPU time that was busy
	// during the run, whoever used it.
	MachineBusy float64 `json:"machineBusy"`
	Error       string  `json:"error,omitempty"`
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

// cpuSample is the CPU time of the shared processes at one moment.
type cpuSample struct {
	self    time.Duration
	control map[string]float64
	machine localenv.MachineCPU
}

// sampleCPU reads the CPU time of this program and of the control plane.
func sampleCPU() cpuSample {
	s := cpuSample{self: selfCPU(), control: map[string]float64{}}
	for name, pid := range controlPlanePids() {
		s.control[name] = processCPU(pid)
	}
	s.machine, _ = localenv.ReadMachineCPU()
	return s
}

// record writes the CPU used since s into m.
func (s cpuSample) record(m *measurement) {
	after := sampleCPU()
	if m.CPUSeconds == nil {
		m.CPUSeconds = map[string]float64{}
	}
	m.CPUSeconds["load generator"] = (after.self - s.self).Seconds()
	for name, v := range after.control {
		m.CPUSeconds[name] = v - s.control[name]
	}
	m.MachineBusy = after.machine.BusySince(s.machine)
}

// setRequests records the API server's requests of the run.
func (m *measurement) setRequests(c apiCounts) {
	m.APIRequests = c
	m.APIRequestsPerObject = apiCounts{}
	for k, v := range c {
		m.APIRequestsPerObject[k] = v / float64(m.Objects)
	}
}

// summarise fills the figures that the watch tells.
func summarise(m *measurement, start time.Time, tracker *localenv.Tracker) {
	var (
		last      time.Time
		latencies []time.Duration
		readyAt   []float64
		writes    int
	)
	for _, tr := range tracker.Tracks() {
		writes += tr.StatusWrites
		if tr.Ready.IsZero() {
			continue
		}
		m.Ready++
		last = maxTime(last, tr.Ready)
		readyAt = append(readyAt, tr.Ready.Sub(start).Seconds())
		if !tr.Created.IsZero() {
			latencies = append(latencies, tr.Ready.Sub(tr.Created))
		}
	}
	if !last.IsZero() {
		m.Seconds = last.Sub(start).Seconds()
		m.ObjectsPerSecond = float64(m.Ready) / m.Seconds
	}
	slices.Sort(readyAt)
	m.ReadyAt = thin(readyAt, 200)
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

// thin keeps at most n points of sorted values, evenly spread, always with
// the first and the last: point i is value number thinnedIndex(i, n, len).
func thin(sorted []float64, n int) []float64 {
	if len(sorted) <= n {
		return sorted
	}
	out := make([]float64, 0, n)
	for i := range n {
		out = append(out, sorted[thinnedIndex(i, n, len(sorted))])
	}
	return out
}

// thinnedIndex returns the index among total values of point i of the
// kept points of thin.
func thinnedIndex(i, kept, total int) int {
	if kept >= total || kept < 2 {
		return i
	}
	return i * (total - 1) / (kept - 1)
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

// maxTime returns the later of two times.
func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// selfCPU returns the CPU time this program has used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
