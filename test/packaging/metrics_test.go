package packaging

import (
	"context"
	"net/http"
	"testing"

	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/emulator"
	"github.com/connectcases-operator/connectcases-operator/internal/metrics"
)

// TestMetricsEndpoint serves the manager's metrics on a free port, as the
// manager does, drives a success, a call that is throttled once then
// retried by the SDK, one whose connection is reset then retried, and a
// validation error, and scrapes the endpoint: each series carries the
// right labels and counts (as differences from a scrape before, since the
// counters belong to the process).
func TestMetricsEndpoint(t *testing.T) {
	g := NewWithT(t)
	w := newWorld(t)
	ctx := context.Background()

	var server metricsserver.Server
	w.startManager(managerOptions{setup: func(mgr manager.Manager) {
		var err error
		server, err = metricsserver.NewServer(metricsserver.Options{BindAddress: "127.0.0.1:0"}, mgr.GetConfig(), mgr.GetHTTPClient())
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(mgr.Add(server)).To(Succeed())
		collector := metrics.NewObjectCollector(mgr.GetCache())
		g.Expect(ctrlmetrics.Registry.Register(collector)).To(Succeed())
		t.Cleanup(func() { ctrlmetrics.Registry.Unregister(collector) })
	}})
	addr := func() string { return server.(interface{ GetBindAddr() string }).GetBindAddr() }
	g.Eventually(addr, timeout, interval).ShouldNot(BeEmpty())
	url := "http://" + addr() + "/metrics"
	before := scrape(g, url)

	ok := w.newObject("ok", "case-1", true, field("priority", "high"))
	g.Expect(k8sClient.Create(ctx, ok)).To(Succeed())
	w.waitForReason(ok, casesv1alpha1.AppliedReason)

	w.emu.SetFaults([]emulator.Fault{{Operation: "UpdateCase", Kind: "ThrottlingException", Count: 1}})
	throttled := w.newObject("throttled-once", "case-2", true, field("priority", "low"))
	g.Expect(k8sClient.Create(ctx, throttled)).To(Succeed())
	w.waitForReason(throttled, casesv1alpha1.AppliedReason)

	w.emu.SetFaults([]emulator.Fault{{Operation: "UpdateCase", Kind: "ConnectionReset", Count: 1}})
	reset := w.newObject("reset-once", "case-3", true, field("summary", "x"))
	g.Expect(k8sClient.Create(ctx, reset)).To(Succeed())
	w.waitForReason(reset, casesv1alpha1.AppliedReason)

	w.emu.SetFaults(nil)
	invalid := w.newObject("invalid", "case-4", true, field("priority", "urgent"))
	g.Expect(k8sClient.Create(ctx, invalid)).To(Succeed())
	w.waitForReason(invalid, casesv1alpha1.ValidationErrorReason)

	g.Eventually(func(g Gomega) {
		after := scrape(g, url)
		delta := func(name string, labels map[string]string) float64 {
			return value(after, name, labels) - value(before, name, labels)
		}
		requests := "connectcases_api_requests_total"
		g.Expect(delta(requests, map[string]string{"operation": "UpdateCase", "code": "OK", "http_status": "200"})).To(BeEquivalentTo(3))
		g.Expect(delta(requests, map[string]string{"operation": "UpdateCase", "code": "ThrottlingException", "http_status": "429"})).To(BeEquivalentTo(1))
		g.Expect(delta(requests, map[string]string{"operation": "UpdateCase", "code": "NoResponse", "http_status": "0"})).To(BeEquivalentTo(1))
		g.Expect(delta(requests, map[string]string{"operation": "UpdateCase", "code": "ValidationException", "http_status": "400"})).To(BeEquivalentTo(1))
		g.Expect(delta("connectcases_api_throttled_total", map[string]string{"operation": "UpdateCase"})).To(BeEquivalentTo(1))
		g.Expect(delta("connectcases_api_request_duration_seconds", map[string]string{"operation": "UpdateCase"})).To(BeEquivalentTo(6), "one observation per attempt")

		objects := "connectcases_casefieldupdate_objects"
		g.Expect(value(after, objects, map[string]string{"namespace": w.namespace, "condition": "Ready", "reason": "Applied"})).To(BeEquivalentTo(3))
		g.Expect(value(after, objects, map[string]string{"namespace": w.namespace, "condition": "Stalled", "reason": "ValidationError"})).To(BeEquivalentTo(1))
	}, timeout, interval).Should(Succeed())
}

// scrape reads a Prometheus text endpoint.
func scrape(g Gomega, url string) map[string]*dto.MetricFamily {
	resp, err := http.Get(url)
	g.Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	g.Expect(resp.StatusCode).To(Equal(http.StatusOK))
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	g.Expect(err).NotTo(HaveOccurred())
	return families
}

// value returns the value of the series of a family with exactly labels:
// a counter's or gauge's value, a histogram's sample count; 0 when absent.
// A label with an empty value counts as absent, as in Prometheus.
func value(families map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	f, ok := families[name]
	if !ok {
		return 0
	}
	for _, m := range f.GetMetric() {
		match, n := true, 0
		for _, l := range m.GetLabel() {
			if l.GetValue() == "" {
				continue
			}
			n++
			if labels[l.GetName()] != l.GetValue() {
				match = false
			}
		}
		if n != len(labels) {
			continue
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return 0
}
