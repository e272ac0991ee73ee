package controllers

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
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
	// RetryAfter is the least wait the service asked for (the
	// InternalServerException's retryAfterSeconds), zero when none.
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

// ClassifyUpdateError maps the error of a Connect Cases call (UpdateCase, or
// a read that UpdateCase depends on) to its outcome.
// It is the one place that decides, by AWS error code first and by the kind
// of failure second, which errors are terminal and which are retried.
func ClassifyUpdateError(err error) Outcome {
	o := Outcome{RequestID: cases.RequestIDFromError(err)}

	var apiErr smithy.APIError
	switch {
	case isCredentialResolutionError(err):
		o.Reason, o.Retry = casesv1alpha1.InvalidCredentialsReason, RetryStalled
		o.Message = capitalise(credentialMessage(err))
		return o
	case errors.As(err, &apiErr):
		o.Message = apiMessage(apiErr, o.RequestID)
		o.Reason, o.Retry = classifyCode(apiErr)
		var ise *types.InternalServerException
		if errors.As(err, &ise) && ise.RetryAfterSeconds != nil && *ise.RetryAfterSeconds > 0 {
			o.RetryAfter = time.Duration(*ise.RetryAfterSeconds) * time.Second
		}
		return o
	case isQuotaExceeded(err):
		o.Reason, o.Retry = casesv1alpha1.ThrottledReason, RetryBackoff
		o.Message = "The client-side retry quota is exhausted"
		return o
	default:
		o.Reason, o.Retry = casesv1alpha1.NetworkErrorReason, RetryBackoff
		o.Message = capitalise(networkMessage(err))
		return o
	}
}

// classifyCode maps an AWS error to a reason and a retry policy.
func classifyCode(apiErr smithy.APIError) (string, RetryPolicy) {
	code := apiErr.ErrorCode()
	switch {
	case code == "ValidationException":
		return casesv1alpha1.ValidationErrorReason, RetryNever
	case code == "ResourceNotFoundException":
		return casesv1alpha1.ResourceNotFoundReason, RetryStalled
	case code == "AccessDeniedException" || code == "AccessDenied":
		return casesv1alpha1.AccessDeniedReason, RetryStalled
	case credentialErrorCodes[code]:
		return casesv1alpha1.InvalidCredentialsReason, RetryStalled
	case isThrottleCode(code):
		return casesv1alpha1.ThrottledReason, RetryBackoff
	case code == "InternalServerException" || apiErr.ErrorFault() == smithy.FaultServer:
		return casesv1alpha1.InternalServerErrorReason, RetryBackoff
	default:
		return casesv1alpha1.UnexpectedErrorReason, RetryStalled
	}
}

// isThrottleCode reports whether code is one of the SDK's throttling codes.
func isThrottleCode(code string) bool {
	_, ok := retry.DefaultThrottleErrorCodes[code]
	return ok
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
