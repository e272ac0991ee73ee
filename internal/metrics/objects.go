package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

// Values of the condition label of connectcases_casefieldupdate_objects
// that are not condition types.
const (
	// ConditionNotReady: the Ready condition is False, and neither
	// Reconciling nor Stalled is True.
	ConditionNotReady = "NotReady"
	// ConditionUnknown: the current generation has no Ready condition yet.
	ConditionUnknown = "Unknown"
	// ReasonNotObserved is the reason of the objects in ConditionUnknown.
	ReasonNotObserved = "NotObserved"
)

// objectsDesc describes the gauge of objects per condition and reason.
var objectsDesc = prometheus.NewDesc(
	"connectcases_casefieldupdate_objects",
	"CaseFieldUpdate objects by namespace, summary condition (Ready, Reconciling, Stalled, NotReady or Unknown) and its reason.",
	[]string{"namespace", "condition", "reason"}, nil,
)

// DefaultListTimeout bounds the cache read of one scrape.
const DefaultListTimeout = 5 * time.Second

// ObjectCollector is a Prometheus collector that counts the CaseFieldUpdate
// objects per condition and reason at each scrape. It reads them from a
// client.Reader, normally the manager's cache, so a scrape costs no API
// call, and the gauge is never out of date, even for deleted objects.
type ObjectCollector struct {
	reader  client.Reader
	timeout time.Duration
}

// NewObjectCollector returns a collector that lists the objects from reader.
func NewObjectCollector(reader client.Reader) *ObjectCollector {
	return &ObjectCollector{reader: reader, timeout: DefaultListTimeout}
}

// Describe implements prometheus.Collector.
func (c *ObjectCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- objectsDesc
}

// Collect implements prometheus.Collector. When the objects cannot be read
// (the cache is not synced yet), the scrape reports an invalid metric, so
// that it fails visibly rather than reporting zero objects.
func (c *ObjectCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	list := &casesv1alpha1.CaseFieldUpdateList{}
	if err := c.reader.List(ctx, list); err != nil {
		ch <- prometheus.NewInvalidMetric(objectsDesc, err)
		return
	}
	type key struct{ namespace, condition, reason string }
	counts := map[key]int{}
	for i := range list.Items {
		cond, reason := Summarize(&list.Items[i])
		counts[key{list.Items[i].Namespace, cond, reason}]++
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(objectsDesc, prometheus.GaugeValue, float64(n), k.namespace, k.condition, k.reason)
	}
}

// Summarize returns the condition that sums up obj's state and its reason:
// Stalled or Reconciling when True, else Ready when True, else NotReady,
// and Unknown (reason NotObserved) while the current generation has no
// Ready condition.
func Summarize(obj *casesv1alpha1.CaseFieldUpdate) (condition, reason string) {
	ready := meta.FindStatusCondition(obj.Status.Conditions, casesv1alpha1.ReadyCondition)
	if ready == nil || ready.ObservedGeneration != obj.Generation || obj.Status.ObservedGeneration != obj.Generation {
		return ConditionUnknown, ReasonNotObserved
	}
	for _, t := range []string{casesv1alpha1.StalledCondition, casesv1alpha1.ReconcilingCondition} {
		if c := meta.FindStatusCondition(obj.Status.Conditions, t); c != nil && c.Status == metav1.ConditionTrue {
			return t, c.Reason
		}
	}
	if ready.Status == metav1.ConditionTrue {
		return casesv1alpha1.ReadyCondition, ready.Reason
	}
	return ConditionNotReady, ready.Reason
}
