package main

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// Goals of the scenarios.
const (
	goalRatioA        = 1.05
	goalThrottledA    = 0.01
	goalCallsPerObjA  = 1.02
	goalWritesPerObjA = 1.1
	goalThroughputB   = 0.8
	goalPeakRSSC      = 100 << 20
)

// results is the whole report, as written to bench/results.json.
type results struct {
	Date     string  `json:"date"`
	CPUs     int     `json:"cpus"`
	GOOS     string  `json:"goos"`
	GOARCH   string  `json:"goarch"`
	Scale    float64 `json:"scale"`
	Workers  int     `json:"workers"`
	Creators int     `json:"creators"`
	// LoadAvg is the machine's load average when the benchmark started.
	LoadAvg string        `json:"loadAvg"`
	Runs    []measurement `json:"runs"`
	Goals   []goal        `json:"goals"`
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

// find returns the run of a scenario and variant.
func (r *results) find(scenario, variant string) *measurement {
	for i := range r.Runs {
		if r.Runs[i].Scenario == scenario && r.Runs[i].Variant == variant {
			return &r.Runs[i]
		}
	}
	return nil
}

// evaluate checks the figures against the goals. A run that did not finish
// misses its time and throughput goals.
func (r *results) evaluate(quota float64) {
	add := func(m *measurement, metric, text string, value float64, pass bool) {
		r.Goals = append(r.Goals, goal{Scenario: m.Scenario, Variant: m.Variant, Metric: metric, Goal: text, Value: value, Pass: pass})
	}
	for _, variant := range []string{"operator", "naive"} {
		m := r.find("a", variant)
		if m == nil {
			continue
		}
		ratio := m.Seconds / (float64(m.Objects) / quota)
		add(m, "T/(N/Q)", fmt.Sprintf("<= %.2f", goalRatioA), ratio, m.Complete && ratio <= goalRatioA)
		add(m, "throttled/calls", fmt.Sprintf("<= %.0f%%", goalThrottledA*100), m.ThrottledFraction, m.ThrottledFraction <= goalThrottledA)
		add(m, "calls/object", fmt.Sprintf("<= %.2f", goalCallsPerObjA), m.CallsPerObject, m.Complete && m.CallsPerObject <= goalCallsPerObjA)
		add(m, "status writes/object", fmt.Sprintf("<= %.1f", goalWritesPerObjA), m.StatusWritesPerObject, m.Complete && m.StatusWritesPerObject <= goalWritesPerObjA)
	}
	if op, raw := r.find("b", "operator"), r.find("b", "raw"); op != nil && raw != nil && raw.ObjectsPerSecond > 0 {
		ratio := op.ObjectsPerSecond / raw.ObjectsPerSecond
		add(op, "objects/s operator/raw", fmt.Sprintf(">= %.1f", goalThroughputB), ratio, op.Complete && raw.Complete && ratio >= goalThroughputB)
	}
	if m := r.find("c", "operator"); m != nil {
		add(m, "peak RSS MiB", fmt.Sprintf("<= %d MiB", goalPeakRSSC>>20), mib(m.PeakRSSBytes), m.Complete && m.PeakRSSBytes <= goalPeakRSSC)
	}
}

// verdict returns the goal's value, multiplied by factor and formatted,
// with pass or miss, or "" when there is no such goal.
func (r *results) verdict(scenario, variant, metric, format string, factor float64) string {
	for _, g := range r.Goals {
		if g.Scenario == scenario && g.Variant == variant && g.Metric == metric {
			return fmt.Sprintf(format, g.Value*factor) + map[bool]string{true: "  pass", false: "  MISS"}[g.Pass]
		}
	}
	return ""
}

// goalText returns the goal of a metric.
func (r *results) goalText(scenario, metric string) string {
	for _, g := range r.Goals {
		if g.Scenario == scenario && g.Metric == metric {
			return g.Goal
		}
	}
	return ""
}

// print writes one table per scenario.
func (r *results) print(w io.Writer, quota float64) {
	fmt.Fprintf(w, "\nconnectcases-operator benchmarks, %s, %d CPUs (%s/%s), load average at start %s, scale %g, %d workers, %d creating goroutines\n",
		r.Date, r.CPUs, r.GOOS, r.GOARCH, r.LoadAvg, r.Scale, r.Workers, r.Creators)
	if op, naive := r.find("a", "operator"), r.find("a", "naive"); op != nil && naive != nil {
		fmt.Fprintf(w, "\nA  quota-bound: %d objects created at once, UpdateCase quota %g/s burst %g; limit N/Q = %.1f s\n",
			op.Objects, quota, quota, float64(op.Objects)/quota)
		tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
		fmt.Fprintln(tw, "\toperator\tnaive controller\tgoal")
		row(tw, "objects Ready", "%d/%d", op.Ready, op.Objects, naive.Ready, naive.Objects)
		row(tw, "T, first create to all Ready", "%.1f s", op.Seconds, naive.Seconds)
		fmt.Fprintf(tw, "T / (N/Q)\t%s\t%s\t%s\n", r.verdict("a", "operator", "T/(N/Q)", "%.3f", 1), r.verdict("a", "naive", "T/(N/Q)", "%.3f", 1), r.goalText("a", "T/(N/Q)"))
		fmt.Fprintf(tw, "throttled / UpdateCase calls\t%s (%d/%d)\t%s (%d/%d)\t%s\n",
			r.verdict("a", "operator", "throttled/calls", "%.1f%%", 100), op.Throttled, op.UpdateCaseCalls,
			r.verdict("a", "naive", "throttled/calls", "%.1f%%", 100), naive.Throttled, naive.UpdateCaseCalls, r.goalText("a", "throttled/calls"))
		fmt.Fprintf(tw, "UpdateCase calls per object\t%s\t%s\t%s\n", r.verdict("a", "operator", "calls/object", "%.3f", 1), r.verdict("a", "naive", "calls/object", "%.3f", 1), r.goalText("a", "calls/object"))
		fmt.Fprintf(tw, "status writes per object\t%s\t%s\t%s\n", r.verdict("a", "operator", "status writes/object", "%.3f", 1), r.verdict("a", "naive", "status writes/object", "%.3f", 1), r.goalText("a", "status writes/object"))
		row(tw, "objects ever Stalled", "%d", op.StalledObjects, naive.StalledObjects)
		cpuRows(tw, op, naive)
		_ = tw.Flush()
	}
	if op, raw := r.find("b", "operator"), r.find("b", "raw"); op != nil && raw != nil {
		fmt.Fprintf(w, "\nB  unthrottled: %d objects created at once, no quota; the raw client writes the same status patch per object\n", op.Objects)
		tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
		fmt.Fprintln(tw, "\toperator\traw client\tgoal")
		row(tw, "objects Ready", "%d/%d", op.Ready, op.Objects, raw.Ready, raw.Objects)
		row(tw, "creates, first to last returned", "%.1f s", op.CreateSeconds, raw.CreateSeconds)
		row(tw, "T, first create to all Ready", "%.1f s", op.Seconds, raw.Seconds)
		row(tw, "objects/s to Ready", "%.1f", op.ObjectsPerSecond, raw.ObjectsPerSecond)
		fmt.Fprintf(tw, "operator / raw\t%s\t\t%s\n", r.verdict("b", "operator", "objects/s operator/raw", "%.3f", 1), r.goalText("b", "objects/s operator/raw"))
		row(tw, "create-to-Ready latency p50", "%.0f ms", op.LatencyP50Ms, raw.LatencyP50Ms)
		row(tw, "create-to-Ready latency p99", "%.0f ms", op.LatencyP99Ms, raw.LatencyP99Ms)
		row(tw, "status writes per object", "%.3f", op.StatusWritesPerObject, raw.StatusWritesPerObject)
		fmt.Fprintf(tw, "UpdateCase calls per object\t%.3f\t-\t\n", op.CallsPerObject)
		cpuRows(tw, op, raw)
		_ = tw.Flush()
	}
	if m := r.find("c", "operator"); m != nil {
		fmt.Fprintf(w, "\nC  memory: %d objects created at once, no quota\n", m.Objects)
		tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
		fmt.Fprintln(tw, "\toperator\tgoal")
		fmt.Fprintf(tw, "objects Ready\t%d/%d\t\n", m.Ready, m.Objects)
		fmt.Fprintf(tw, "T, first create to all Ready\t%.1f s\t\n", m.Seconds)
		fmt.Fprintf(tw, "objects/s to Ready\t%.1f\t\n", m.ObjectsPerSecond)
		fmt.Fprintf(tw, "manager peak RSS (VmHWM)\t%s\t%s\n", r.verdict("c", "operator", "peak RSS MiB", "%.1f MiB", 1), r.goalText("c", "peak RSS MiB"))
		fmt.Fprintf(tw, "CPU s: manager, emulator, this program\t%.1f, %.1f, %.1f\t\n", m.ManagerCPUSeconds, m.EmulatorCPUSeconds, m.BenchCPUSeconds)
		fmt.Fprintf(tw, "machine CPU busy during the run\t%.0f%%\t\n", m.MachineBusy*100)
		_ = tw.Flush()
	}
	for _, m := range r.Runs {
		if m.Error != "" {
			fmt.Fprintf(w, "\n%s/%s did not complete: %s\n", m.Scenario, m.Variant, m.Error)
		}
		if m.WatchResyncs > 0 {
			fmt.Fprintf(w, "\n%s/%s: the watch resynced %d times; its status write count is a lower bound\n", m.Scenario, m.Variant, m.WatchResyncs)
		}
	}
}

// row writes a row with the same format for both columns; args holds the
// first column's arguments, then the second's.
func row(tw io.Writer, label, format string, args ...any) {
	half := len(args) / 2
	fmt.Fprintf(tw, "%s\t%s\t%s\t\n", label, fmt.Sprintf(format, args[:half]...), fmt.Sprintf(format, args[half:]...))
}

// cpuRows writes where the CPU time went in two runs: the machine has few
// cores, and the API server, etcd, the emulator, the manager and this
// program share them.
func cpuRows(tw io.Writer, a, b *measurement) {
	cpu := func(m *measurement) string {
		if m.ManagerCPUSeconds == 0 {
			return fmt.Sprintf("-, -, %.1f", m.BenchCPUSeconds)
		}
		return fmt.Sprintf("%.1f, %.1f, %.1f", m.ManagerCPUSeconds, m.EmulatorCPUSeconds, m.BenchCPUSeconds)
	}
	fmt.Fprintf(tw, "CPU s: manager, emulator, this program\t%s\t%s\t\n", cpu(a), cpu(b))
	row(tw, "machine CPU busy during the run", "%.0f%%", a.MachineBusy*100, b.MachineBusy*100)
}

// mib converts bytes to MiB.
func mib(b int64) float64 { return float64(b) / (1 << 20) }
