// Package metrics defines the operator's Prometheus metrics and registers
// them on controller-runtime's registry, so that the manager's metrics
// endpoint serves them next to controller-runtime's own.
//
// Connect Cases calls are counted per SDK attempt, not per operation: a call
// that the SDK retries after two throttles counts three requests and two
// throttles, which is what the service's quota saw.
//
// Each series carries the connection label: the name of the CasesConnection
// whose credentials signed the call, or "" (ConnectionNone) for the
// operator's own identity. It is never an ARN or an account id: the
// connection's name is what a cluster administrator chose to show.
package metrics

import (
	"context"
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

// ConnectionNone is the connection label of calls made with the operator's
// own identity, without a CasesConnection.
const ConnectionNone = ""

var (
	apiRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "connectcases_api_requests_total",
		Help: "Connect Cases API requests (one per SDK attempt), by operation, AWS error code (OK on success, NoResponse without an answer) and HTTP status (0 without an answer).",
	}, []string{"operation", "code", "http_status", "connection"})

	apiRequestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "connectcases_api_request_duration_seconds",
		Help:    "Duration of Connect Cases API requests (one per SDK attempt), from sending to the decoded answer.",
		Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
	}, []string{"operation", "connection"})

	apiThrottled = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "connectcases_api_throttled_total",
		Help: "Connect Cases API requests (one per SDK attempt) that the service throttled.",
	}, []string{"operation", "connection"})
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
	// Connection is the CasesConnection that signed the call, or
	// ConnectionNone.
	Connection string
}

// connectionKey is the context key of the connection name.
type connectionKey struct{}

// WithConnection returns ctx naming the CasesConnection whose client makes
// the calls under it: their attempts are counted with that connection label.
func WithConnection(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, connectionKey{}, name)
}

// ConnectionFrom returns the connection named by WithConnection, or
// ConnectionNone.
func ConnectionFrom(ctx context.Context) string {
	name, _ := ctx.Value(connectionKey{}).(string)
	return name
}

// ObserveAPIAttempt records one attempt of a Connect Cases API call.
func ObserveAPIAttempt(a Attempt) {
	apiRequests.WithLabelValues(a.Operation, a.Code, strconv.Itoa(a.HTTPStatus), a.Connection).Inc()
	apiRequestDuration.WithLabelValues(a.Operation, a.Connection).Observe(a.Duration.Seconds())
	if a.Throttled {
		apiThrottled.WithLabelValues(a.Operation, a.Connection).Inc()
	}
}
