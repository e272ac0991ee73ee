package cases

import (
	"context"
	"errors"
	"fmt"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/go-logr/logr"

	"github.com/connectcases-operator/connectcases-operator/internal/metrics"
)

// telemetryID names the telemetry middleware in the SDK's stack.
const telemetryID = "ConnectCasesTelemetry"

// addTelemetry adds, as the outermost middleware of the deserialize step,
// one that records and logs each attempt of a call. The deserialize step
// runs once per attempt, inside the retry middleware, so retried throttles
// are counted; being outermost, it sees the error with its request id.
func addTelemetry(stack *middleware.Stack) error {
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc(telemetryID, handleTelemetry), middleware.Before)
}

// handleTelemetry sends one attempt, then records it in the metrics and logs
// it at V(1) with its request id on the caller's logger (the reconciler's,
// from the context).
func handleTelemetry(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
	start := time.Now()
	out, md, err := next.HandleDeserialize(ctx, in)
	a := metrics.Attempt{Operation: awsmiddleware.GetOperationName(ctx), Duration: time.Since(start), Connection: metrics.ConnectionFrom(ctx)}
	if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && resp != nil {
		a.HTTPStatus = resp.StatusCode
	}
	a.Code, a.Throttled = attemptCode(a.HTTPStatus, err)
	metrics.ObserveAPIAttempt(a)

	requestID, _ := awsmiddleware.GetRequestIDMetadata(md)
	if requestID == "" {
		requestID = RequestIDFromError(err)
	}
	logr.FromContextOrDiscard(ctx).V(1).Info("AWS request attempt",
		"operation", a.Operation, "code", a.Code, "httpStatus", a.HTTPStatus,
		"requestId", requestID, "durationMs", a.Duration.Milliseconds())
	return out, md, err
}

// attemptCode returns the code label of an attempt and whether it was
// throttled, as IsThrottle decides.
func attemptCode(httpStatus int, err error) (string, bool) {
	var apiErr smithy.APIError
	switch {
	case err == nil:
		return metrics.CodeOK, false
	case errors.As(err, &apiErr) && apiErr.ErrorCode() != "":
		return apiErr.ErrorCode(), IsThrottle(err)
	case httpStatus == 0:
		return metrics.CodeNoResponse, false
	default:
		return metrics.CodeUnknown, IsThrottle(err)
	}
}

// sdkLogger writes the SDK's client logs (ClientLogMode) to the logr logger
// of the call's context, or to base when the context has none. Its lines are
// debug (V(1)) lines, and verbose; credentials are redacted from them (see
// redactCredentials): the request dumps carry the Authorization header and
// the session token, the signing logs the token too.
type sdkLogger struct {
	base logr.Logger
	ctx  context.Context
}

// Logf implements logging.Logger.
func (l sdkLogger) Logf(classification logging.Classification, format string, v ...interface{}) {
	log := l.base
	if l.ctx != nil {
		if fromCtx, err := logr.FromContext(l.ctx); err == nil {
			log = fromCtx
		}
	}
	log.WithName("aws-sdk").V(1).Info(redactCredentials(fmt.Sprintf(format, v...)), "classification", string(classification))
}

// WithContext implements logging.ContextLogger, which the SDK calls once per
// operation.
func (l sdkLogger) WithContext(ctx context.Context) logging.Logger {
	return sdkLogger{base: l.base, ctx: ctx}
}
