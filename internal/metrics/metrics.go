// Package metrics defines the operator's Prometheus metrics and registers
// them on controller-runtime's registry, so that the manager's metrics
// endpoint serves them next to controller-runtime's own.
//
// Connect Cases calls are counted per SDK attempt, not per operation: a call
// that the SDK retries after two throttles counts three requests and two
// throttles, which is what the service's quota saw.
package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Label values of connectcases_api_requests_total that are not AWS error
// codes.
const (
	// CodeOK is the code of an attempt answered with a 2xx status.
	CodeOK = "OK"
	// CodeNoResponse is the code of an attempt that got no HTTP answer
	// (connection refused or reset, timeout, DNS failure); its http_status
	// is "0".
	CodeNoResponse = "NoResponse"
	// CodeUnknown is the code of an error answer that carried no AWS error
	// code the SDK could read.
	CodeUnknown = "Unknown"
)

var (
	apiRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "connectcases_api_requests_total",
		Help: "Connect Cases API requests (one per SDK attempt), by operation, AWS error code (OK on success, NoResponse without an answer) and HTTP status (0 without an answer).",
	}, []string{"operation", "code", "http_status"})

	apiRequestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "connectcases_api_request_duration_seconds",
		Help:    "Duration of Connect Cases API requests (one per SDK attempt), from sending to the decoded answer.",
		Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
	}, []string{"operation"})

	apiThrottled = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "connectcases_api_throttled_total",
		Help: "Connect Cases API requests (one per SDK attempt) that the service throttled.",
	}, []string{"operation"})
)

func init() {
	ctrlmetrics.Registry.MustRegister(apiRequests, apiRequestDuration, apiThrottled)
}

// Attempt is the result of one attempt of a Connect Cases API call.
type Attempt struct {
	// Operation is the API operation, such as UpdateCase.
	Operation string
	// Code is the AWS error code, CodeOK, CodeNoResponse or CodeUnknown.
	Code string
	// HTTPStatus is the answer's status, 0 when there was none.
	HTTPStatus int
	// Throttled tells whether the service throttled the attempt.
	Throttled bool
	// Duration is the time from sending to the decoded answer.
	Duration time.Duration
}

// ObserveAPIAttempt records one attempt of a Connect Cases API call.
func ObserveAPIAttempt(a Attempt) {
	apiRequests.WithLabelValues(a.Operation, a.Code, strconv.Itoa(a.HTTPStatus)).Inc()
	apiRequestDuration.WithLabelValues(a.Operation).Observe(a.Duration.Seconds())
	if a.Throttled {
		apiThrottled.WithLabelValues(a.Operation).Inc()
	}
}
