package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// print writes the report: one table per scenario, then every check.
func (r *results) print(w io.Writer, quota float64) {
	fmt.Fprintf(w, "\nconnectcases-operator benchmarks, %s, %d CPUs (%s/%s), load average %s before and %s after, scale %g, %d workers, %d creating goroutines\n",
		r.Date, r.Machine.CPUs, r.Machine.GOOS, r.Machine.GOARCH, r.Machine.LoadAvgBefore, r.Machine.LoadAvgAfter, r.Scale, r.Workers, r.Creators)
	fmt.Fprintf(w, "manager: GOGC=%q GOMEMLIMIT=%q, container memory limit %.0f MiB (soft limit 90%%)\n",
		r.Manager.GOGC, r.Manager.GOMEMLIMIT, mib(r.Manager.ContainerLimitBytes))
	for _, sc := range []struct{ name, title string }{
		{"A", "A  quota-bound: %d objects at once, UpdateCase quota %g/s burst %g, the limiter told the quota; N/Q = %.1f s"},
		{"A2", "A2 unknown quota: %d objects at once, UpdateCase quota %g/s burst %g, the limiter starting at 5 x the quota; N/Q = %.1f s"},
	} {
		runs := r.columns(sc.name, variantOperator, variantTypical, variantNoLimit)
		if len(runs) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n"+sc.title+"\n", runs[0].Objects, quota, quota, float64(runs[0].Objects)/quota)
		r.table(w, runs, []rowSpec{
			{"objects Ready", func(m *measurement) string { return fmt.Sprintf("%d/%d", m.Ready, m.Objects) }},
			{"T, first create to all Ready", func(m *measurement) string { return fmt.Sprintf("%.1f s", m.Seconds) }},
			{"T / (N/Q)", func(m *measurement) string {
				return r.verdict(m, "T/(N/Q)", fmt.Sprintf("%.3f", m.Seconds/(float64(m.Objects)/quota)))
			}},
			{"throttled / UpdateCase calls", func(m *measurement) string {
				return r.verdict(m, "throttled/calls", fmt.Sprintf("%.1f%% (%d/%d)", m.ThrottledFraction*100, m.Throttled, m.UpdateCaseCalls))
			}},
			{"UpdateCase calls per object", func(m *measurement) string {
				return r.verdict(m, "UpdateCase calls/object", fmt.Sprintf("%.3f", m.CallsPerObject))
			}},
			{"status writes per object (watch)", func(m *measurement) string { return fmt.Sprintf("%.3f", m.StatusWritesPerObject) }},
			{"objects ever Stalled", func(m *measurement) string { return fmt.Sprint(m.StalledObjects) }},
		})
	}
	if m := r.find("D", variantOperator); m != nil {
		r.printAccounts(w, m, quota)
	}
	if ops, raws := r.runsOf("B", variantOperator), r.runsOf("B", variantRaw); len(ops) > 0 && len(raws) > 0 {
		fmt.Fprintf(w, "\nB  unthrottled: %d objects at once, no quota; the raw peer writes the same status patch and Event per object; %d interleaved rounds\n",
			ops[0].Objects, len(ops))
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "round\toperator obj/s\traw obj/s\toperator/raw\toperator p50/p99 ms\traw p50/p99 ms\tmachine busy")
		for i := range min(len(ops), len(raws)) {
			op, raw := ops[i], raws[i]
			ratio := 0.0
			if r.B != nil && i < len(r.B.Ratios) {
				ratio = r.B.Ratios[i]
			}
			fmt.Fprintf(tw, "%d\t%.1f\t%.1f\t%.3f\t%.0f/%.0f\t%.0f/%.0f\t%.0f%%/%.0f%%\n", op.Round, op.ObjectsPerSecond, raw.ObjectsPerSecond, ratio,
				op.LatencyP50Ms, op.LatencyP99Ms, raw.LatencyP50Ms, raw.LatencyP99Ms, op.MachineBusy*100, raw.MachineBusy*100)
		}
		_ = tw.Flush()
		if r.B != nil {
			fmt.Fprintf(w, "median operator/raw %s, spread %.3f to %.3f (goal %s)\n", r.goalValue("B", "median objects/s operator/raw", "%.3f"),
				r.B.Min, r.B.Max, r.goalText("B", "median objects/s operator/raw"))
		}
		r.table(w, []*measurement{ops[0], raws[0]}, []rowSpec{
			{"status patches per object (API server)", func(m *measurement) string {
				status, _ := r.writesPerObject("B", m.Variant)
				return r.verdict(m, "status patches/object", fmt.Sprintf("%.3f", status))
			}},
			{"Event writes per object (API server)", func(m *measurement) string {
				_, events := r.writesPerObject("B", m.Variant)
				return r.verdict(m, "Event writes/object", fmt.Sprintf("%.3f", events))
			}},
		})
	}
	for _, sc := range []struct{ name, title string }{
		{"C", "C  memory: %d objects at once, no quota"},
		{"C2", "C2 memory with valueFrom: %d objects, each reading a Secret and a ConfigMap of its own"},
		{"C3", "C3 restart: a new manager over %d Ready objects"},
	} {
		m := r.find(sc.name, variantOperator)
		if m == nil {
			continue
		}
		fmt.Fprintf(w, "\n"+sc.title+"\n", m.Objects)
		rows := []rowSpec{{"objects Ready", func(m *measurement) string { return fmt.Sprintf("%d/%d", m.Ready, m.Objects) }}}
		if sc.name == "C3" {
			rows = append(rows,
				rowSpec{"time to steady state", func(m *measurement) string { return fmt.Sprintf("%.1f s", m.Seconds) }},
				rowSpec{"AWS calls", func(m *measurement) string {
					return r.verdict(m, "AWS calls after the restart", fmt.Sprint(m.AWSCalls))
				}})
		} else {
			rows = append(rows,
				rowSpec{"T, first create to all Ready", func(m *measurement) string { return fmt.Sprintf("%.1f s", m.Seconds) }},
				rowSpec{"objects/s to Ready", func(m *measurement) string { return fmt.Sprintf("%.1f", m.ObjectsPerSecond) }})
		}
		rows = append(rows, rowSpec{"manager peak RSS (VmHWM)", func(m *measurement) string {
			return r.verdict(m, "peak RSS MiB", fmt.Sprintf("%.1f MiB", mib(m.PeakRSSBytes)))
		}}, rowSpec{"manager peak anonymous RSS (RssAnon, sampled)", func(m *measurement) string {
			return fmt.Sprintf("%.1f MiB", mib(m.PeakAnonRSSBytes))
		}})
		r.table(w, []*measurement{m}, rows)
	}
	r.printChecks(w)
}

// printAccounts writes the table of scenario D, with N/Q, what the same
// objects take through one account, for contrast.
func (r *results) printAccounts(w io.Writer, m *measurement, quota float64) {
	fmt.Fprintf(w, "\nD  %d accounts: %d objects at once in %d namespaces, each through a CasesConnection that assumes a role in its own account; "+
		"UpdateCase quota %g/s burst %g per account, each connection's limiter told it; N/(%dQ) = %.1f s, one account's N/Q = %.1f s\n",
		m.Accounts, m.Objects, m.Accounts, quota, quota, m.Accounts, idealSeconds(m, quota), float64(m.Objects)/quota)
	r.table(w, []*measurement{m}, []rowSpec{
		{"objects Ready", func(m *measurement) string { return fmt.Sprintf("%d/%d", m.Ready, m.Objects) }},
		{"T, first create to all Ready", func(m *measurement) string { return fmt.Sprintf("%.1f s", m.Seconds) }},
		{"T / (N/(2Q))", func(m *measurement) string {
			return r.verdict(m, metricRatioD, fmt.Sprintf("%.3f", m.Seconds/idealSeconds(m, quota)))
		}},
		{"T / (N/Q), one account's time", func(m *measurement) string { return fmt.Sprintf("%.3f", m.Seconds/(float64(m.Objects)/quota)) }},
		{"UpdateCase throttles", func(m *measurement) string {
			return r.verdict(m, "UpdateCase throttles", fmt.Sprintf("%d (of %d calls)", m.Throttled, m.UpdateCaseCalls))
		}},
		{"UpdateCase calls per object", func(m *measurement) string { return fmt.Sprintf("%.3f", m.CallsPerObject) }},
		{"STS AssumeRole / GetCallerIdentity calls", func(m *measurement) string {
			return fmt.Sprintf("%d / %d", callCount(m, "sts:AssumeRole"), callCount(m, "sts:GetCallerIdentity"))
		}},
		{"objects ever Stalled", func(m *measurement) string { return fmt.Sprint(m.StalledObjects) }},
	})
}

// callCount returns the emulator's calls of an operation in a run, every
// outcome together.
func callCount(m *measurement, operation string) int {
	n := 0
	for _, v := range m.EmulatorCounts[operation] {
		n += v
	}
	return n
}

// rowSpec is a row of a table: a label and the cell of each run.
type rowSpec struct {
	label string
	cell  func(m *measurement) string
}

// table writes rows for runs, followed by the API server's requests per
// object and the CPU of each process.
func (r *results) table(w io.Writer, runs []*measurement, rows []rowSpec) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	header := []string{""}
	for _, m := range runs {
		header = append(header, m.Variant)
	}
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, row := range rows {
		cells := []string{row.label}
		for _, m := range runs {
			cells = append(cells, row.cell(m))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	for _, key := range requestKeys(runs) {
		cells := []string{"API " + key + " per object"}
		for _, m := range runs {
			cells = append(cells, fmt.Sprintf("%.3f", m.APIRequestsPerObject[key]))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	for _, proc := range []string{"manager", "raw peer", "kube-apiserver", "etcd", "emulator", "load generator"} {
		cells := []string{"CPU s, " + proc}
		for _, m := range runs {
			if v, ok := m.CPUSeconds[proc]; ok {
				cells = append(cells, fmt.Sprintf("%.1f", v))
			} else {
				cells = append(cells, "-")
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	cells := []string{"machine CPU busy"}
	for _, m := range runs {
		cells = append(cells, fmt.Sprintf("%.0f%%", m.MachineBusy*100))
	}
	fmt.Fprintln(tw, strings.Join(cells, "\t"))
	_ = tw.Flush()
}

// requestKeys returns the writes that the runs made, with more than a
// hundredth of a request per object: the verbs that cost the API server.
func requestKeys(runs []*measurement) []string {
	seen := map[string]bool{}
	for _, m := range runs {
		for k, v := range m.APIRequestsPerObject {
			verb, _, _ := strings.Cut(k, " ")
			if v >= 0.01 && (verb == "POST" || verb == "PATCH" || verb == "PUT" || verb == "DELETE") {
				seen[k] = true
			}
		}
	}
	return slices.Sorted(func(yield func(string) bool) {
		for k := range seen {
			if !yield(k) {
				return
			}
		}
	})
}

// columns returns the runs of a scenario in the order of variants.
func (r *results) columns(scenario string, variants ...string) []*measurement {
	var out []*measurement
	for _, v := range variants {
		if m := r.find(scenario, v); m != nil {
			out = append(out, m)
		}
	}
	return out
}

// verdict appends pass or MISS to text when the run has a goal on metric.
func (r *results) verdict(m *measurement, metric, text string) string {
	for _, g := range r.Goals {
		if g.Scenario == m.Scenario && g.Variant == m.Variant && g.Metric == metric {
			return text + map[bool]string{true: " pass", false: " MISS"}[g.Pass]
		}
	}
	return text
}

// goalValue formats the value of a scenario's goal with its verdict.
func (r *results) goalValue(scenario, metric, format string) string {
	for _, g := range r.Goals {
		if g.Scenario == scenario && g.Metric == metric {
			return fmt.Sprintf(format, g.Value) + map[bool]string{true: " pass", false: " MISS"}[g.Pass]
		}
	}
	return "-"
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

// printChecks lists the goals, the missed ones first, and the runs' errors.
func (r *results) printChecks(w io.Writer) {
	fmt.Fprintln(w, "\nChecks")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	missed := 0
	for _, pass := range []bool{false, true} {
		for _, g := range r.Goals {
			if g.Pass != pass {
				continue
			}
			if !pass {
				missed++
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.4g\t%s\n", map[bool]string{true: "pass", false: "MISS"}[pass], g.Scenario, g.Variant, g.Metric, g.Value, g.Goal)
		}
	}
	_ = tw.Flush()
	for _, m := range r.Runs {
		if m.Error != "" {
			fmt.Fprintf(w, "%s/%s round %d: %s\n", m.Scenario, m.Variant, m.Round, m.Error)
		}
		for _, ex := range m.MismatchExamples {
			fmt.Fprintf(w, "%s/%s round %d: %s\n", m.Scenario, m.Variant, m.Round, ex)
		}
		if m.WatchResyncs > 0 {
			fmt.Fprintf(w, "%s/%s round %d: the watch resynced %d times; its status write count is a lower bound\n", m.Scenario, m.Variant, m.Round, m.WatchResyncs)
		}
	}
	fmt.Fprintf(w, "%d of %d checks missed\n", missed, len(r.Goals))
}
