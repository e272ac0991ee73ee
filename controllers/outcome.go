package controllers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/cases"
)

// RetryPolicy says when an object is tried again after an outcome.
type RetryPolicy int

const (
	// RetryNever tries again only when the spec changes (a new generation).
	RetryNever RetryPolicy = iota
	// RetryStalled tries again after the stalled retry interval, jittered.
	// For failures that need a change outside the cluster (IAM, a missing
	// case).
	RetryStalled
	// RetryBackoff tries again after an exponential backoff with full
	// jitter, for transient failures (throttling, server errors, network
	// errors).
	RetryBackoff
)

// Outcome is the classified result of one UpdateCase attempt.
type Outcome struct {
	// Reason is the condition reason, one of the api's *Reason constants.
	Reason string
	// Message is the condition message: the AWS error code, its message and
	// the request id, capitalised, without a trailing period.
	Message string
	// RequestID is the AWS request id of the call, "" when there was no
	// answer or no call.
	RequestID string
	// Retry tells when the object is tried again.
	Retry RetryPolicy
	// RetryAfter is the least wait the answer asked for (its Retry-After
	// header, the InternalServerException's retryAfterSeconds), zero when
	// none.
	RetryAfter time.Duration
}

// Stalled reports whether the outcome sets the Stalled condition.
func (o Outcome) Stalled() bool {
	return o.Reason != casesv1alpha1.AppliedReason && o.Retry != RetryBackoff
}

// credentialErrorCodes are the error codes with which AWS refuses credentials
// or signatures rather than the caller's permissions.
var credentialErrorCodes = map[string]bool{
	"UnrecognizedClientException":         true,
	"InvalidSignatureException":           true,
	"SignatureDoesNotMatch":               true,
	"IncompleteSignature":                 true,
	"IncompleteSignatureException":        true,
	"InvalidClientTokenId":                true,
	"ExpiredToken":                        true,
	"ExpiredTokenException":               true,
	"RequestExpired":                      true,
	"MissingAuthenticationToken":          true,
	"MissingAuthenticationTokenException": true,
}

// sdkUnknownErrorCode is the code the SDK gives an error answer that named
// none (an empty body, or a JSON body without a code).
const sdkUnknownErrorCode = "UnknownError"

// ClassifyUpdateError maps the error of a Connect Cases call (UpdateCase, or
// a read that UpdateCase depends on) to its outcome.
// It is the one place that decides which errors are terminal and which are
// retried: by AWS error code first (the codes of the Connect Cases model, the
// credential codes of the AWS front end, the throttles as cases.IsThrottle
// defines them), then by the smithy fault of the error, then by HTTP status:
// any 5xx is an InternalServerError, 429 a throttle, no answer a
// NetworkError, and any other 4xx stays an UnexpectedError. A proxy's 502
// with an HTML page or a 503 with a code the model does not list is thus
// retried with backoff, not stalled.
//
// RetryAfter is the wait the answer asked for (Retry-After, or the
// InternalServerException's retryAfterSeconds), whatever the error.
func ClassifyUpdateError(err error) Outcome {
	o := Outcome{RequestID: cases.RequestIDFromError(err), RetryAfter: cases.RetryAfter(err)}
	if isCredentialResolutionError(err) {
		o.Reason, o.Retry = casesv1alpha1.InvalidCredentialsReason, RetryStalled
		o.Message = capitalise(credentialMessage(err))
		return o
	}

	status := cases.HTTPStatusFromError(err)
	var apiErr smithy.APIError
	coded := errors.As(err, &apiErr) && apiErr.ErrorCode() != "" && apiErr.ErrorCode() != sdkUnknownErrorCode
	if coded {
		o.Message = apiMessage(apiErr, o.RequestID)
		if reason, retry, ok := classifyCode(err, apiErr.ErrorCode()); ok {
			o.Reason, o.Retry = reason, retry
			return o
		}
		if apiErr.ErrorFault() == smithy.FaultServer {
			o.Reason, o.Retry = casesv1alpha1.InternalServerErrorReason, RetryBackoff
			return o
		}
	} else if status != 0 {
		o.Message = statusMessage(err, status, o.RequestID)
	}

	switch {
	case isQuotaExceeded(err):
		o.Reason, o.Retry = casesv1alpha1.ThrottledReason, RetryBackoff
		o.Message = "The client-side retry quota is exhausted"
	case cases.IsThrottle(err):
		o.Reason, o.Retry = casesv1alpha1.ThrottledReason, RetryBackoff
	case status >= 500:
		o.Reason, o.Retry = casesv1alpha1.InternalServerErrorReason, RetryBackoff
	case status == 0 && !coded:
		o.Reason, o.Retry = casesv1alpha1.NetworkErrorReason, RetryBackoff
		o.Message = capitalise(networkMessage(err))
	default:
		o.Reason, o.Retry = casesv1alpha1.UnexpectedErrorReason, RetryStalled
	}
	return o
}

// classifyCode maps an AWS error code to a reason and a retry policy; ok is
// false for a code it does not know.
func classifyCode(err error, code string) (reason string, retry RetryPolicy, ok bool) {
	switch {
	case code == "ValidationException":
		return casesv1alpha1.ValidationErrorReason, RetryNever, true
	case code == "ResourceNotFoundException":
		return casesv1alpha1.ResourceNotFoundReason, RetryStalled, true
	case code == "AccessDeniedException" || code == "AccessDenied":
		return casesv1alpha1.AccessDeniedReason, RetryStalled, true
	case credentialErrorCodes[code]:
		return casesv1alpha1.InvalidCredentialsReason, RetryStalled, true
	case cases.IsThrottle(err):
		return casesv1alpha1.ThrottledReason, RetryBackoff, true
	case code == "InternalServerException":
		return casesv1alpha1.InternalServerErrorReason, RetryBackoff, true
	default:
		return "", RetryNever, false
	}
}

// statusMessage describes an answer that carried no AWS error code, such as
// a proxy's page, by its HTTP status.
func statusMessage(err error, status int, requestID string) string {
	msg := fmt.Sprintf("Connect Cases answered HTTP %d %s", status, http.StatusText(status))
	var de *smithy.DeserializationError
	if errors.As(err, &de) {
		msg += " with a body that is not an AWS error"
	} else {
		msg += " without an error code"
	}
	if requestID != "" {
		msg += " (request id " + requestID + ")"
	}
	return msg
}

// isCredentialResolutionError reports whether the request could not be
// signed because no credentials could be resolved.
func isCredentialResolutionError(err error) bool {
	var ce *cases.CredentialsError
	var se *v4.SigningError
	return errors.As(err, &ce) || errors.As(err, &se)
}

// credentialMessage describes a credential failure in the chain's words.
func credentialMessage(err error) string {
	var ce *cases.CredentialsError
	if errors.As(err, &ce) {
		return strings.TrimRight(ce.Error(), ". ")
	}
	return "No AWS credentials could be resolved: " + innermost(err)
}

// isQuotaExceeded reports whether the SDK's own retry quota stopped the call.
func isQuotaExceeded(err error) bool {
	var qe ratelimit.QuotaExceededError
	return errors.As(err, &qe)
}

// apiMessage formats an AWS error as "Code: message (request id ID)".
func apiMessage(apiErr smithy.APIError, requestID string) string {
	msg := apiErr.ErrorCode()
	if m := strings.TrimSpace(apiErr.ErrorMessage()); m != "" {
		msg += ": " + strings.TrimRight(m, ". ")
	}
	if requestID != "" {
		msg += " (request id " + requestID + ")"
	}
	return capitalise(msg)
}

// networkMessage describes a call that got no answer, without the SDK's
// "operation error" preamble.
func networkMessage(err error) string {
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "The call to Connect Cases timed out"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "The call to Connect Cases timed out: " + innermost(err)
	default:
		return "The call to Connect Cases got no answer: " + innermost(err)
	}
}

// innermost returns the text of the deepest wrapped error, which is the
// specific cause without the SDK's layers of context.
func innermost(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return strings.TrimRight(err.Error(), ". ")
		}
		err = next
	}
}

// capitalise upper-cases the first letter of s.
func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
