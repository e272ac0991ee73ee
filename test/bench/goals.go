package main

import (
	"fmt"
	"slices"
)

// Goals of the scenarios, as make bench checks them.
const (
	goalRatioA          = 1.05
	goalThrottledA      = 0.01
	goalCallsPerObjA    = 1.02
	goalRatioA2         = 1.10
	goalThrottledA2     = 0.02
	goalThroughputB     = 0.8
	goalStatusPatchesB  = 1.0
	goalEventWritesB    = 1.0
	goalPeakRSS         = 100 << 20
	goalRestartAWSCalls = 0
	goalRatioD          = 1.05
	goalThrottlesD      = 0
	// writeSlack is the rounding allowed on writes per object: an Event
	// may be sent again after a conflict, rarely.
	writeSlack = 0.01
)

// Variants of a run.
const (
	variantOperator = "operator"
	variantTypical  = "typical controller"
	variantNoLimit  = "operator without limiter (ablation)"
	variantRaw      = "raw"
)

// results is the whole report, as written to bench/results.json.
type results struct {
	Date    string  `json:"date"`
	Machine machine `json:"machine"`
	Scale   float64 `json:"scale"`
	// Workers is the manager's --max-concurrent-reconciles and the raw
	// peer's number of workers; Creators the goroutines that create.
	Workers  int `json:"workers"`
	Creators int `json:"creators"`
	// Manager is how the manager's memory was set up in every run.
	Manager managerMemory `json:"manager"`
	Runs    []measurement `json:"runs"`
	// B is the operator/raw throughput ratio of each round of B, and
	// their median and spread.
	B     *spread `json:"b,omitempty"`
	Goals []goal  `json:"goals"`
	// Pass is true when every run converged, matched its specs and every
	// goal was met.
	Pass bool `json:"pass"`
}

// machine describes where the benchmark ran.
type machine struct {
	CPUs   int    `json:"cpus"`
	GOOS   string `json:"goos"`
	GOARCH string `json:"goarch"`
	// LoadAvgBefore and LoadAvgAfter are the 1, 5 and 15 minute load
	// averages before the first run and after the last.
	LoadAvgBefore string `json:"loadAvgBefore"`
	LoadAvgAfter  string `json:"loadAvgAfter"`
}

// managerMemory is the manager's memory settings in the runs.
type managerMemory struct {
	// GOGC and GOMEMLIMIT are the manager's environment ("" when unset:
	// Go's defaults).
	GOGC       string `json:"GOGC"`
	GOMEMLIMIT string `json:"GOMEMLIMIT"`
	// ContainerLimitBytes is the memory limit handed to the manager as a
	// container's (CONNECTCASES_MEMORY_LIMIT); its soft limit is 90% of it.
	ContainerLimitBytes int64 `json:"containerLimitBytes"`
}

// spread is a set of ratios with their median, minimum and maximum.
type spread struct {
	Ratios []float64 `json:"ratios"`
	Median float64   `json:"median"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
}

// newSpread returns the median, minimum and maximum of values; nil for none.
func newSpread(values []float64) *spread {
	if len(values) == 0 {
		return nil
	}
	sorted := slices.Sorted(slices.Values(values))
	n := len(sorted)
	median := sorted[n/2]
	if n%2 == 0 {
		median = (sorted[n/2-1] + sorted[n/2]) / 2
	}
	return &spread{Ratios: values, Median: median, Min: sorted[0], Max: sorted[n-1]}
}

// goal is one figure checked against its goal.
type goal struct {
	Scenario string  `json:"scenario"`
	Variant  string  `json:"variant"`
	Metric   string  `json:"metric"`
	Goal     string  `json:"goal"`
	Value    float64 `json:"value"`
	Pass     bool    `json:"pass"`
}

// runsOf returns the runs of a scenario and variant, in order.
func (r *results) runsOf(scenario, variant string) []*measurement {
	var out []*measurement
	for i := range r.Runs {
		if r.Runs[i].Scenario == scenario && r.Runs[i].Variant == variant {
			out = append(out, &r.Runs[i])
		}
	}
	return out
}

// find returns the first run of a scenario and variant.
func (r *results) find(scenario, variant string) *measurement {
	if runs := r.runsOf(scenario, variant); len(runs) > 0 {
		return runs[0]
	}
	return nil
}

// evaluate checks every run and figure against the goals, and sets Pass.
// Every run must converge, and the emulator's final state must match the
// specs of every run that had an emulator; then the goals of each scenario.
func (r *results) evaluate(quota float64) {
	r.Goals = nil
	add := func(m *measurement, metric, text string, value float64, pass bool) {
		r.Goals = append(r.Goals, goal{Scenario: m.Scenario, Variant: m.Variant, Metric: metric, Goal: text, Value: value, Pass: pass})
	}
	for i := range r.Runs {
		m := &r.Runs[i]
		add(m, "converged", "all Ready", float64(m.Ready), m.Complete)
		if m.StateChecked {
			add(m, "cases that differ from their spec", "0", float64(m.StateMismatches), m.StateMismatches == 0)
		}
	}
	for _, sc := range []struct {
		name               string
		ratio, throttled   float64
		checkCallsPerObjct bool
	}{{"A", goalRatioA, goalThrottledA, true}, {"A2", goalRatioA2, goalThrottledA2, false}} {
		m := r.find(sc.name, variantOperator)
		if m == nil {
			continue
		}
		ratio := m.Seconds / (float64(m.Objects) / quota)
		add(m, "T/(N/Q)", fmt.Sprintf("<= %.2f", sc.ratio), ratio, m.Complete && ratio <= sc.ratio)
		add(m, "throttled/calls", fmt.Sprintf("<= %.0f%%", sc.throttled*100), m.ThrottledFraction, m.ThrottledFraction <= sc.throttled)
		if sc.checkCallsPerObjct {
			add(m, "UpdateCase calls/object", fmt.Sprintf("<= %.2f", goalCallsPerObjA), m.CallsPerObject, m.Complete && m.CallsPerObject <= goalCallsPerObjA)
		}
	}
	if m := r.find("D", variantOperator); m != nil {
		ratio := m.Seconds / idealSeconds(m, quota)
		add(m, metricRatioD, fmt.Sprintf("<= %.2f", goalRatioD), ratio, m.Complete && ratio <= goalRatioD)
		add(m, "UpdateCase throttles", fmt.Sprintf("= %d", goalThrottlesD), float64(m.Throttled), m.Complete && m.Throttled == goalThrottlesD)
	}
	r.B = nil
	ops, raws := r.runsOf("B", variantOperator), r.runsOf("B", variantRaw)
	if len(ops) > 0 && len(ops) == len(raws) {
		var ratios []float64
		complete := true
		for i := range ops {
			complete = complete && ops[i].Complete && raws[i].Complete
			ratio := 0.0
			if raws[i].ObjectsPerSecond > 0 {
				ratio = ops[i].ObjectsPerSecond / raws[i].ObjectsPerSecond
			}
			ratios = append(ratios, ratio)
		}
		r.B = newSpread(ratios)
		add(ops[0], "median objects/s operator/raw", fmt.Sprintf(">= %.1f", goalThroughputB), r.B.Median, complete && r.B.Median >= goalThroughputB)
		for _, variant := range []string{variantOperator, variantRaw} {
			status, events := r.writesPerObject("B", variant)
			m := r.find("B", variant)
			add(m, "status patches/object", fmt.Sprintf("<= %.0f", goalStatusPatchesB), status, status <= goalStatusPatchesB+writeSlack)
			add(m, "Event writes/object", fmt.Sprintf("<= %.0f (one Applied)", goalEventWritesB), events, events <= goalEventWritesB+writeSlack)
		}
	}
	for _, name := range []string{"C", "C2"} {
		if m := r.find(name, variantOperator); m != nil {
			add(m, "peak RSS MiB", fmt.Sprintf("<= %d MiB", goalPeakRSS>>20), mib(m.PeakRSSBytes), m.Complete && m.PeakRSSBytes > 0 && m.PeakRSSBytes <= goalPeakRSS)
		}
	}
	if m := r.find("C3", variantOperator); m != nil {
		add(m, "AWS calls after the restart", fmt.Sprintf("= %d", goalRestartAWSCalls), float64(m.AWSCalls), m.Complete && m.AWSCalls == goalRestartAWSCalls)
	}
	r.Pass = len(r.Goals) > 0
	for _, g := range r.Goals {
		r.Pass = r.Pass && g.Pass
	}
}

// writesPerObject returns the status patches and Event writes per object
// of every run of a scenario and variant together, from the API server's
// counts.
func (r *results) writesPerObject(scenario, variant string) (status, events float64) {
	objects := 0
	for _, m := range r.runsOf(scenario, variant) {
		objects += m.Objects
		status += m.APIRequests[keyStatusPatch]
		events += m.APIRequests[keyEventCreate] + m.APIRequests[keyEventPatch]
	}
	if objects == 0 {
		return 0, 0
	}
	return status / float64(objects), events / float64(objects)
}

// metricRatioD names D's goal on T.
const metricRatioD = "T/(N/(2Q))"

// idealSeconds is N/(kQ): how long a run's N objects take at the quota Q
// of each of its k accounts (k = 1 for a run with the operator's own
// identity).
func idealSeconds(m *measurement, quota float64) float64 {
	return float64(m.Objects) / (float64(max(1, m.Accounts)) * quota)
}

// mib converts bytes to MiB.
func mib(b int64) float64 { return float64(b) / (1 << 20) }
