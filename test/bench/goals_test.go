package main

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// passingRuns returns runs of every scenario that meet their goals.
func passingRuns() []measurement {
	ok := func(scenario, variant string, round, n int) measurement {
		return measurement{Scenario: scenario, Variant: variant, Round: round, Objects: n, Ready: n, Complete: true,
			StateChecked: variant != variantRaw, ReadyAt: []float64{0.5, 1, 2}, CPUSeconds: map[string]float64{"manager": 1}}
	}
	a := ok("A", variantOperator, 0, 600)
	a.Seconds, a.UpdateCaseCalls, a.CallsPerObject = 30.5, 600, 1
	a2 := ok("A2", variantOperator, 0, 600)
	a2.Seconds, a2.Throttled, a2.UpdateCaseCalls, a2.ThrottledFraction = 32, 6, 606, 6.0/606
	runs := []measurement{a, a2}
	for round, ratio := range []float64{0.9, 0.85, 1.0, 0.7, 0.95} {
		op, raw := ok("B", variantOperator, round+1, 100), ok("B", variantRaw, round+1, 100)
		op.ObjectsPerSecond, raw.ObjectsPerSecond = 100*ratio, 100
		for _, m := range []*measurement{&op, &raw} {
			m.APIRequests = apiCounts{keyStatusPatch: 100, keyEventCreate: 100}
		}
		runs = append(runs, op, raw)
	}
	c := ok("C", variantOperator, 0, 10000)
	c.PeakRSSBytes = 90 << 20
	c3 := ok("C3", variantOperator, 0, 10000)
	c3.PeakRSSBytes = 80 << 20
	d := ok("D", variantOperator, 0, 600)
	d.Accounts, d.Seconds, d.UpdateCaseCalls, d.CallsPerObject = 2, 15.7, 600, 1
	return append(runs, c, c3, d)
}

func TestEvaluate(t *testing.T) {
	tests := map[string]struct {
		change     func(r *results)
		wantPass   bool
		wantMissed []string
	}{
		"every goal met": {change: func(*results) {}, wantPass: true},
		"a run that did not converge": {
			change:     func(r *results) { r.Runs[0].Complete, r.Runs[0].Ready = false, 599 },
			wantMissed: []string{"A/operator/converged", "A/operator/T/(N/Q)", "A/operator/UpdateCase calls/object"},
		},
		"a case that differs from its spec": {
			change:     func(r *results) { r.find("C", variantOperator).StateMismatches = 1 },
			wantMissed: []string{"C/operator/cases that differ from their spec"},
		},
		"A too slow": {
			change:     func(r *results) { r.find("A", variantOperator).Seconds = 31.6 },
			wantMissed: []string{"A/operator/T/(N/Q)"},
		},
		"A2 throttled too often": {
			change:     func(r *results) { r.find("A2", variantOperator).ThrottledFraction = 0.03 },
			wantMissed: []string{"A2/operator/throttled/calls"},
		},
		"B median too low": {
			change: func(r *results) {
				for _, m := range r.runsOf("B", variantOperator) {
					m.ObjectsPerSecond *= 0.8
				}
			},
			wantMissed: []string{"B/operator/median objects/s operator/raw"},
		},
		"B writes an extra status patch": {
			change: func(r *results) {
				for _, m := range r.runsOf("B", variantOperator) {
					m.APIRequests[keyStatusPatch] = 200
				}
			},
			wantMissed: []string{"B/operator/status patches/object"},
		},
		"C over its memory goal": {
			change:     func(r *results) { r.find("C", variantOperator).PeakRSSBytes = 101 << 20 },
			wantMissed: []string{"C/operator/peak RSS MiB"},
		},
		"D at its goal": {
			change:   func(r *results) { r.find("D", variantOperator).Seconds = 15.75 },
			wantPass: true,
		},
		"D too slow for two accounts": {
			change:     func(r *results) { r.find("D", variantOperator).Seconds = 15.8 },
			wantMissed: []string{"D/operator/T/(N/(2Q))"},
		},
		"D as slow as one account": {
			change:     func(r *results) { r.find("D", variantOperator).Seconds = 30 },
			wantMissed: []string{"D/operator/T/(N/(2Q))"},
		},
		"D throttled once": {
			change:     func(r *results) { m := r.find("D", variantOperator); m.Throttled, m.UpdateCaseCalls = 1, 601 },
			wantMissed: []string{"D/operator/UpdateCase throttles"},
		},
		"D did not converge": {
			change:     func(r *results) { m := r.find("D", variantOperator); m.Complete, m.Ready = false, 599 },
			wantMissed: []string{"D/operator/converged", "D/operator/T/(N/(2Q))", "D/operator/UpdateCase throttles"},
		},
		"C3 calls AWS": {
			change:     func(r *results) { r.find("C3", variantOperator).AWSCalls = 1 },
			wantMissed: []string{"C3/operator/AWS calls after the restart"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			r := &results{Runs: passingRuns()}
			tc.change(r)
			r.evaluate(20)
			var missed []string
			for _, goal := range r.Goals {
				if !goal.Pass {
					missed = append(missed, goal.Scenario+"/"+goal.Variant+"/"+goal.Metric)
				}
			}
			g.Expect(missed).To(ConsistOf(tc.wantMissed))
			g.Expect(r.Pass).To(Equal(tc.wantPass))
		})
	}
}

func TestNewSpread(t *testing.T) {
	tests := map[string]struct {
		values []float64
		want   *spread
	}{
		"none": {values: nil, want: nil},
		"odd":  {values: []float64{0.9, 0.7, 1.1, 0.8, 1.0}, want: &spread{Ratios: []float64{0.9, 0.7, 1.1, 0.8, 1.0}, Median: 0.9, Min: 0.7, Max: 1.1}},
		"even": {values: []float64{0.6, 1.0, 0.8, 0.9}, want: &spread{Ratios: []float64{0.6, 1.0, 0.8, 0.9}, Median: 0.85, Min: 0.6, Max: 1.0}},
		"one":  {values: []float64{0.5}, want: &spread{Ratios: []float64{0.5}, Median: 0.5, Min: 0.5, Max: 0.5}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			got := newSpread(tc.values)
			if tc.want == nil {
				g.Expect(got).To(BeNil())
				return
			}
			g.Expect(got.Ratios).To(Equal(tc.want.Ratios))
			g.Expect(got.Median).To(BeNumerically("~", tc.want.Median, 1e-9))
			g.Expect(got.Min).To(Equal(tc.want.Min))
			g.Expect(got.Max).To(Equal(tc.want.Max))
		})
	}
}

func TestResultsJSONShape(t *testing.T) {
	g := NewWithT(t)
	r := &results{Date: "2026-01-01T00:00:00Z", Machine: machine{CPUs: 2, LoadAvgBefore: "1.00 1.00 1.00", LoadAvgAfter: "2.00 1.50 1.00"},
		Manager: managerMemory{ContainerLimitBytes: 128 << 20}, Runs: passingRuns()}
	r.evaluate(20)
	data, err := json.Marshal(r)
	g.Expect(err).NotTo(HaveOccurred())
	var doc map[string]any
	g.Expect(json.Unmarshal(data, &doc)).To(Succeed())
	g.Expect(doc).To(HaveKey("machine"))
	g.Expect(doc["machine"]).To(HaveKey("loadAvgBefore"))
	g.Expect(doc["machine"]).To(HaveKey("loadAvgAfter"))
	g.Expect(doc["manager"]).To(HaveKey("GOGC"))
	g.Expect(doc["manager"]).To(HaveKey("GOMEMLIMIT"))
	g.Expect(doc["b"]).To(HaveKey("median"))
	g.Expect(doc["pass"]).To(BeTrue())
	run := doc["runs"].([]any)[2].(map[string]any)
	for _, key := range []string{"cpuSeconds", "apiRequests", "apiRequestsPerObject", "stateChecked", "readyAt", "complete"} {
		g.Expect(run).To(HaveKey(key))
	}
}

func TestParseRequestTotals(t *testing.T) {
	g := NewWithT(t)
	text := strings.Join([]string{
		`# TYPE apiserver_request_total counter`,
		`apiserver_request_total{code="200",component="apiserver",dry_run="",group="cases.connectcases.dev",resource="casefieldupdates",scope="resource",subresource="status",verb="PATCH",version="v1alpha1"} 7`,
		`apiserver_request_total{code="409",component="apiserver",dry_run="",group="cases.connectcases.dev",resource="casefieldupdates",scope="resource",subresource="status",verb="PATCH",version="v1alpha1"} 2`,
		`apiserver_request_total{code="201",component="apiserver",dry_run="",group="events.k8s.io",resource="events",scope="resource",subresource="",verb="POST",version="v1"} 5`,
		`apiserver_request_total{code="201",component="apiserver",dry_run="",group="",resource="secrets",scope="resource",subresource="",verb="POST",version="v1"} 3e+00`,
		`apiserver_request_duration_seconds_count{verb="GET"} 100`,
	}, "\n")
	got := parseRequestTotals(text)
	g.Expect(got).To(Equal(apiCounts{keyStatusPatch: 9, keyEventCreate: 5, "POST secrets": 3}))
	g.Expect(apiCounts{keyStatusPatch: 12, "GET x": 1}.since(got)).To(Equal(apiCounts{keyStatusPatch: 3, "GET x": 1}))
}

func TestWritePlot(t *testing.T) {
	g := NewWithT(t)
	r := &results{Runs: passingRuns()}
	path := filepath.Join(t.TempDir(), "convergence.png")
	g.Expect(writePlot(path, r, 20)).To(Succeed())
	f, err := os.Open(path)
	g.Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	img, err := png.Decode(f)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(img.Bounds().Dx()).To(BeNumerically(">", img.Bounds().Dy()))
}

func TestThin(t *testing.T) {
	g := NewWithT(t)
	values := make([]float64, 1000)
	for i := range values {
		values[i] = float64(i)
	}
	got := thin(values, 200)
	g.Expect(got).To(HaveLen(200))
	g.Expect(got[0]).To(Equal(0.0))
	g.Expect(got[199]).To(Equal(999.0))
	for i, v := range got {
		g.Expect(v).To(Equal(float64(thinnedIndex(i, 200, 1000))))
	}
	g.Expect(thin(values[:5], 200)).To(HaveLen(5))
}
