package packaging

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/emulator"
	"github.com/connectcases-operator/connectcases-operator/internal/metrics"
)

// targetLabels are the labels Prometheus adds to every series of a target
// scraped through a ServiceMonitor: a query may select or group by them
// although the manager does not serve them.
var targetLabels = map[string]bool{"job": true, "instance": true, "namespace": true, "pod": true,
	"service": true, "endpoint": true, "container": true}

// grafanaVariables stand for the dashboard's variables when its queries are
// parsed: the values Grafana substitutes have this form.
var grafanaVariables = map[string]string{"__rate_interval": "5m", "__interval": "1m", "__range": "1h", "namespace": ".*"}

// grafanaVariable matches $name and ${name}.
var grafanaVariable = regexp.MustCompile(`\$\{?(\w+)\}?`)

// promQuery is a PromQL expression of the dashboard or the alerts, and where
// it comes from.
type promQuery struct {
	where, expr string
}

// dashboardQueries returns the PromQL of every panel target of the chart's
// dashboard, with Grafana's variables substituted, and the metric selectors
// of its label_values variables.
func dashboardQueries(t *testing.T) []promQuery {
	t.Helper()
	cm := findObject(t, decodeObjects(t, helmTemplate(t, "--set", "grafana.dashboard.enabled=true")), "ConfigMap")
	raw, _, _ := unstructured.NestedString(cm.Object, "data", "connectcases-operator.json")
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name       string `json:"name"`
				Type       string `json:"type"`
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal([]byte(raw), &dash); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	var out []promQuery
	for _, p := range dash.Panels {
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for i, target := range p.Targets {
			out = append(out, promQuery{where: fmt.Sprintf("panel %q, query %d", p.Title, i), expr: substituteVariables(t, target.Expr)})
		}
	}
	labelValues := regexp.MustCompile(`^label_values\((.+),\s*(\w+)\)$`)
	for _, v := range dash.Templating.List {
		if v.Type != "query" {
			continue
		}
		m := labelValues.FindStringSubmatch(v.Definition)
		if m == nil {
			t.Fatalf("variable %s: %q is not label_values(selector, label)", v.Name, v.Definition)
		}
		out = append(out, promQuery{where: "variable " + v.Name, expr: fmt.Sprintf("count by (%s) (%s)", m[2], m[1])})
	}
	return out
}

// substituteVariables replaces the dashboard's variables; an unknown one
// fails the test.
func substituteVariables(t *testing.T, expr string) string {
	t.Helper()
	return grafanaVariable.ReplaceAllStringFunc(expr, func(v string) string {
		name := grafanaVariable.FindStringSubmatch(v)[1]
		value, ok := grafanaVariables[name]
		if !ok {
			t.Errorf("unknown Grafana variable %s in %q", v, expr)
		}
		return value
	})
}

// alertQueries returns the expression of every rule of the chart's
// PrometheusRule.
func alertQueries(t *testing.T) []promQuery {
	t.Helper()
	rule := findObject(t, decodeObjects(t, helmTemplate(t, "--set", "metrics.prometheusRule.enabled=true")), "PrometheusRule")
	groups, _, _ := unstructured.NestedSlice(rule.Object, "spec", "groups")
	var out []promQuery
	for _, g := range groups {
		rules, _, _ := unstructured.NestedSlice(g.(map[string]interface{}), "rules")
		for _, r := range rules {
			r := r.(map[string]interface{})
			out = append(out, promQuery{where: fmt.Sprintf("alert %v", r["alert"]), expr: fmt.Sprint(r["expr"])})
		}
	}
	return out
}

// TestHelmGrafanaDashboard renders the dashboard's ConfigMap: off by
// default; when on, labelled for the dashboard sidecar (label and value
// configurable), in the release's namespace unless set, with unique panel
// ids and the queries on a data source variable.
func TestHelmGrafanaDashboard(t *testing.T) {
	g := NewWithT(t)
	for _, o := range decodeObjects(t, helmTemplate(t)) {
		g.Expect(o.GetName()).NotTo(HaveSuffix("-dashboard"), "the dashboard is off by default")
	}
	cm := findObject(t, decodeObjects(t, helmTemplate(t, "--set", "grafana.dashboard.enabled=true")), "ConfigMap")
	g.Expect(cm.GetNamespace()).To(Equal(installNamespace))
	g.Expect(cm.GetLabels()).To(HaveKeyWithValue("grafana_dashboard", "1"))
	cm = findObject(t, decodeObjects(t, helmTemplate(t, "--set", "grafana.dashboard.enabled=true", "--set", "grafana.dashboard.namespace=monitoring",
		"--set", "grafana.dashboard.label=dashboards", "--set-string", "grafana.dashboard.labelValue=connectcases",
		"--set", "grafana.dashboard.annotations.grafana_folder=Operators")), "ConfigMap")
	g.Expect(cm.GetNamespace()).To(Equal("monitoring"))
	g.Expect(cm.GetLabels()).To(HaveKeyWithValue("dashboards", "connectcases"))
	g.Expect(cm.GetLabels()).NotTo(HaveKey("grafana_dashboard"))
	g.Expect(cm.GetAnnotations()).To(HaveKeyWithValue("grafana_folder", "Operators"))

	raw, _, _ := unstructured.NestedString(cm.Object, "data", "connectcases-operator.json")
	var dash struct {
		UID    string `json:"uid"`
		Panels []struct {
			ID         int    `json:"id"`
			Type       string `json:"type"`
			Datasource struct {
				UID string `json:"uid"`
			} `json:"datasource"`
		} `json:"panels"`
	}
	g.Expect(json.Unmarshal([]byte(raw), &dash)).To(Succeed())
	g.Expect(dash.UID).NotTo(BeEmpty())
	ids := map[int]bool{}
	for _, p := range dash.Panels {
		g.Expect(ids).NotTo(HaveKey(p.ID), "panel ids are unique")
		ids[p.ID] = true
		if p.Type != "row" {
			g.Expect(p.Datasource.UID).To(Equal("${datasource}"))
		}
	}
}

// TestHelmMonitoringAdvice checks what the chart tells Prometheus and the
// people it alerts: the ServiceMonitor keeps the scraped namespace label
// (the objects' namespace) over the target's, and the throttling alert
// points at the client-side rate, --aws-rps, not at the workers.
func TestHelmMonitoringAdvice(t *testing.T) {
	g := NewWithT(t)
	objs := decodeObjects(t, helmTemplate(t, "-f", valuesAll))
	endpoints, _, _ := unstructured.NestedSlice(findObject(t, objs, "ServiceMonitor").Object, "spec", "endpoints")
	g.Expect(endpoints).To(HaveLen(1))
	g.Expect(endpoints[0]).To(HaveKeyWithValue("honorLabels", true))

	groups, _, _ := unstructured.NestedSlice(findObject(t, objs, "PrometheusRule").Object, "spec", "groups")
	var throttled map[string]interface{}
	for _, grp := range groups {
		rules, _, _ := unstructured.NestedSlice(grp.(map[string]interface{}), "rules")
		for _, r := range rules {
			if r.(map[string]interface{})["alert"] == "ConnectCasesThrottled" {
				throttled = r.(map[string]interface{})
			}
		}
	}
	g.Expect(throttled).NotTo(BeNil())
	description, _, _ := unstructured.NestedString(throttled, "annotations", "description")
	g.Expect(description).To(ContainSubstring("--aws-rps"))
	g.Expect(description).To(ContainSubstring("manager.awsRps"))
	g.Expect(description).NotTo(ContainSubstring("--max-concurrent-reconciles"))
}

// TestDashboardAndAlertQueries parses every PromQL expression of the
// chart's Grafana dashboard and PrometheusRule with the Prometheus parser,
// and checks each metric it selects against the ones a running manager
// serves: the metric exists, each label it matches on exists (or is a
// target label), each value it matches exactly is served, and each label
// it aggregates by exists. The manager works first so that every family
// has a series: applies, a throttle, a validation error and a drift.
func TestDashboardAndAlertQueries(t *testing.T) {
	g := NewWithT(t)
	queries := append(dashboardQueries(t), alertQueries(t)...)
	g.Expect(len(queries)).To(BeNumerically(">=", 10))
	families := servedFamilies(t)

	p := parser.NewParser(parser.Options{})
	for _, q := range queries {
		t.Run(q.where, func(t *testing.T) {
			expr, err := p.ParseExpr(q.expr)
			if err != nil {
				t.Fatalf("%s: %v", q.expr, err)
			}
			selectors := 0
			parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
				switch n := node.(type) {
				case *parser.VectorSelector:
					selectors++
					checkSelector(t, n, families)
				case *parser.AggregateExpr:
					checkGrouping(t, n, families)
				}
				return nil
			})
			if selectors == 0 {
				t.Errorf("%s selects no metric", q.expr)
			}
		})
	}
	t.Run("metric names in the docs", func(t *testing.T) { checkDocumentedMetrics(t, families) })
}

// checkDocumentedMetrics checks that every connectcases_ metric the README
// and the docs name is one the manager serves (a histogram's _bucket, _sum
// and _count series included), and that docs/observability.md names every
// connectcases_ family served.
func checkDocumentedMetrics(t *testing.T, families map[string]*dto.MetricFamily) {
	g := NewWithT(t)
	docs, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	g.Expect(err).NotTo(HaveOccurred())
	docs = append(docs, filepath.Join(repoRoot, "README.md"))
	name := regexp.MustCompile(`connectcases_[a-z0-9_]*[a-z0-9]`)
	for _, path := range docs {
		data, err := os.ReadFile(path)
		g.Expect(err).NotTo(HaveOccurred())
		for _, m := range name.FindAllString(string(data), -1) {
			f, _ := familyOf(m, families)
			g.Expect(f).NotTo(BeNil(), "%s names %s, which the manager does not serve", filepath.Base(path), m)
		}
	}
	observability, err := os.ReadFile(filepath.Join(repoRoot, "docs", "observability.md"))
	g.Expect(err).NotTo(HaveOccurred())
	for family := range families {
		if strings.HasPrefix(family, "connectcases_") {
			g.Expect(string(observability)).To(ContainSubstring(family), "docs/observability.md does not document %s", family)
		}
	}
}

// servedFamilies runs a manager with its metrics endpoint, has it apply,
// be throttled, refuse a value and repair a drift, and returns what its
// endpoint serves.
func servedFamilies(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	g := NewWithT(t)
	w := newWorld(t)
	ctx := context.Background()
	var offset atomic.Int64
	var server metricsserver.Server
	w.startManager(managerOptions{
		now: func() time.Time { return time.Now().Add(time.Duration(offset.Load())) },
		setup: func(mgr manager.Manager) {
			var err error
			server, err = metricsserver.NewServer(metricsserver.Options{BindAddress: "127.0.0.1:0"}, mgr.GetConfig(), mgr.GetHTTPClient())
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(mgr.Add(server)).To(Succeed())
			collector := metrics.NewObjectCollector(mgr.GetCache())
			g.Expect(ctrlmetrics.Registry.Register(collector)).To(Succeed())
			t.Cleanup(func() { ctrlmetrics.Registry.Unregister(collector) })
		},
	})
	addr := func() string { return server.(interface{ GetBindAddr() string }).GetBindAddr() }
	g.Eventually(addr, timeout, interval).ShouldNot(BeEmpty())

	w.emu.SetFaults([]emulator.Fault{{Operation: "UpdateCase", Kind: "ThrottlingException", Count: 1}})
	applied := w.newObject("applied", "case-1", true, field("priority", "high"))
	g.Expect(k8sClient.Create(ctx, applied)).To(Succeed())
	w.waitForReason(applied, casesv1alpha1.AppliedReason)
	invalid := w.newObject("invalid", "case-2", true, field("priority", "urgent"))
	g.Expect(k8sClient.Create(ctx, invalid)).To(Succeed())
	w.waitForReason(invalid, casesv1alpha1.ValidationErrorReason)

	// An Enforce object whose case is changed out of band, checked once the
	// reconciler's clock is past its resync interval.
	enforced := w.newObject("enforced", "case-3", true, field("summary", "Kept as written"))
	enforced.Spec.SyncPolicy = casesv1alpha1.SyncPolicyEnforce
	enforced.Spec.ResyncInterval = &metav1.Duration{Duration: 30 * time.Second}
	g.Expect(k8sClient.Create(ctx, enforced)).To(Succeed())
	w.waitForReason(enforced, casesv1alpha1.AppliedReason)
	g.Expect(w.emu.SetCaseField("domain-1", "case-3", "summary", emulator.FieldValue{StringValue: ptr.To("Changed by hand")})).To(Succeed())
	offset.Store(int64(time.Hour))
	patch := client.RawPatch("application/merge-patch+json", []byte(`{"metadata":{"annotations":{"test.connectcases.dev/check":"now"}}}`))
	g.Expect(k8sClient.Patch(ctx, enforced, patch)).To(Succeed())

	url := "http://" + addr() + "/metrics"
	var families map[string]*dto.MetricFamily
	g.Eventually(func(g Gomega) {
		families = scrape(g, url)
		g.Expect(families).To(HaveKey("connectcases_drift_detected_total"))
		g.Expect(families).To(HaveKey("connectcases_api_throttled_total"))
	}, timeout, interval).Should(Succeed())
	return families
}

// familyOf returns the family a selected series name belongs to: the name
// itself, or the histogram or summary whose _bucket, _sum or _count series
// it is; with whether the selector reads the buckets (le is a label then).
func familyOf(name string, families map[string]*dto.MetricFamily) (*dto.MetricFamily, bool) {
	if f, ok := families[name]; ok {
		return f, false
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, found := strings.CutSuffix(name, suffix)
		if f, ok := families[base]; found && ok && (f.GetType() == dto.MetricType_HISTOGRAM || f.GetType() == dto.MetricType_SUMMARY) {
			return f, suffix == "_bucket"
		}
	}
	return nil, false
}

// labelValues returns the values each label of a family takes.
func labelValues(f *dto.MetricFamily, buckets bool) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	if buckets {
		out["le"] = map[string]bool{}
	}
	for _, m := range f.GetMetric() {
		for _, l := range m.GetLabel() {
			if out[l.GetName()] == nil {
				out[l.GetName()] = map[string]bool{}
			}
			out[l.GetName()][l.GetValue()] = true
		}
	}
	return out
}

// checkSelector checks a vector selector against the served families.
func checkSelector(t *testing.T, vs *parser.VectorSelector, families map[string]*dto.MetricFamily) {
	t.Helper()
	f, buckets := familyOf(vs.Name, families)
	if f == nil {
		t.Errorf("%s: the manager serves no metric %s", vs, vs.Name)
		return
	}
	values := labelValues(f, buckets)
	for _, m := range vs.LabelMatchers {
		if m.Name == model.MetricNameLabel {
			continue
		}
		served, ok := values[m.Name]
		switch {
		case !ok && !targetLabels[m.Name]:
			t.Errorf("%s: %s has no label %s (labels %v)", vs, f.GetName(), m.Name, sortedKeys(keysOf(values)))
		case ok && m.Type == labels.MatchEqual && !served[m.Value]:
			t.Errorf("%s: no series of %s has %s=%q (values %v)", vs, f.GetName(), m.Name, m.Value, sortedKeys(served))
		}
	}
}

// checkGrouping checks that the labels an aggregation groups by exist on a
// metric it aggregates, or are target labels.
func checkGrouping(t *testing.T, agg *parser.AggregateExpr, families map[string]*dto.MetricFamily) {
	t.Helper()
	available := map[string]bool{}
	parser.Inspect(agg.Expr, func(node parser.Node, _ []parser.Node) error {
		if vs, ok := node.(*parser.VectorSelector); ok {
			if f, buckets := familyOf(vs.Name, families); f != nil {
				for l := range labelValues(f, buckets) {
					available[l] = true
				}
			}
		}
		return nil
	})
	for _, l := range agg.Grouping {
		if !available[l] && !targetLabels[l] {
			t.Errorf("%s: groups by %s, which no metric it aggregates has (labels %v)", agg, l, sortedKeys(available))
		}
	}
}

// keysOf returns the keys of a map as a set.
func keysOf(m map[string]map[string]bool) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}
