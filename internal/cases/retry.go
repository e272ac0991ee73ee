package cases

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	"github.com/aws/smithy-go"
)

// MaxRetryAfter bounds the wait an answer may ask for: a longer Retry-After
// is taken as this long, so that a wrong header cannot park objects for
// days.
const MaxRetryAfter = 15 * time.Minute

// standardRetryer returns the SDK's standard retryer with short waits and no
// client-side retry quota (the retry quota would turn a run of throttles
// into "retry quota exceeded" errors that hide the service's answer), which
// never retries sooner than the service asked.
func standardRetryer(opts Options) func() aws.Retryer {
	attempts := opts.MaxAttempts
	if attempts <= 0 {
		attempts = DefaultMaxAttempts
	}
	backoff := opts.MaxBackoff
	if backoff <= 0 {
		backoff = DefaultMaxBackoff
	}
	return func() aws.Retryer {
		std := retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = attempts
			o.MaxBackoff = backoff
			o.RateLimiter = ratelimit.None
			if opts.NoThrottleRetries {
				o.Retryables = append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(noThrottleRetry)}, o.Retryables...)
			}
		})
		return &retryAfterRetryer{RetryerV2: std, maxBackoff: backoff}
	}
}

// retryAfterRetryer makes a retryer honour the wait the service asks for:
// the SDK reads only x-amz-retry-after, not Retry-After, and would retry an
// InternalServerException with retryAfterSeconds 1 some 30ms later.
type retryAfterRetryer struct {
	aws.RetryerV2
	// maxBackoff is the longest wait spent inside a call. An answer that
	// asks for more is handed back to the caller at once: a worker does not
	// sleep that long, the controller requeues instead.
	maxBackoff time.Duration
}

// IsErrorRetryable implements aws.Retryer: an answer that asks for a wait
// longer than maxBackoff is not retried within the call.
func (r *retryAfterRetryer) IsErrorRetryable(err error) bool {
	if RetryAfter(err) > r.maxBackoff {
		return false
	}
	return r.RetryerV2.IsErrorRetryable(err)
}

// RetryDelay implements aws.Retryer: the retryer's own delay, never shorter
// than the wait the answer asked for.
func (r *retryAfterRetryer) RetryDelay(attempt int, err error) (time.Duration, error) {
	d, derr := r.RetryerV2.RetryDelay(attempt, err)
	if derr != nil {
		return d, derr
	}
	return max(d, RetryAfter(err)), nil
}

// SDKDefaultRetryer is the SDK's stock standard retryer (3 attempts, up to
// 20s between them, a client-side retry quota), for comparison runs. It
// reads no Retry-After header.
func SDKDefaultRetryer() aws.Retryer { return retry.NewStandard() }

// IsThrottle reports whether err is a throttling answer: one of the SDK's
// throttling error codes, or HTTP 429 whatever its code. It is the one
// definition the SDK retryer, the rate limiter's feedback, the metrics and
// the controller's classification share.
func IsThrottle(err error) bool {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		if _, ok := retry.DefaultThrottleErrorCodes[apiErr.ErrorCode()]; ok {
			return true
		}
	}
	return HTTPStatusFromError(err) == http.StatusTooManyRequests
}

// noThrottleRetry vetoes retries of throttles and leaves every other error to
// the retryer's own rules.
func noThrottleRetry(err error) aws.Ternary {
	if IsThrottle(err) {
		return aws.FalseTernary
	}
	return aws.UnknownTernary
}

// RetryAfter returns the least wait before another attempt that the answer
// carried by err asked for, or zero: the Retry-After header (seconds or an
// HTTP date, on any error answer), the InternalServerException's
// retryAfterSeconds (the same header, as the model binds it) and the AWS
// x-amz-retry-after header (milliseconds). The longest wins, bounded by
// MaxRetryAfter.
func RetryAfter(err error) time.Duration {
	var d time.Duration
	var ise *types.InternalServerException
	if errors.As(err, &ise) && ise.RetryAfterSeconds != nil && *ise.RetryAfterSeconds > 0 {
		d = time.Duration(*ise.RetryAfterSeconds) * time.Second
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response != nil && re.Response.Response != nil {
		h := re.Response.Header
		d = max(d, parseRetryAfter(h.Get("Retry-After"), time.Now()))
		if ms, perr := strconv.ParseInt(strings.TrimSpace(h.Get("X-Amz-Retry-After")), 10, 64); perr == nil && ms > 0 {
			d = max(d, time.Duration(min(ms, MaxRetryAfter.Milliseconds()))*time.Millisecond)
		}
	}
	return min(d, MaxRetryAfter)
}

// parseRetryAfter reads a Retry-After header: a number of seconds or an HTTP
// date. Anything else, and a date in the past, is zero.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, int64(MaxRetryAfter/time.Second))) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil && at.After(now) {
		return min(at.Sub(now), MaxRetryAfter)
	}
	return 0
}
