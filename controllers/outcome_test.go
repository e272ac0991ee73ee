package controllers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	. "github.com/onsi/gomega"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

// sdkError wraps err the way the SDK returns a service error: an operation
// error around a response error that carries the HTTP status and request id.
func sdkError(status int, requestID string, err error) error {
	return &smithy.OperationError{
		ServiceID:     "ConnectCases",
		OperationName: "UpdateCase",
		Err: &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
				Err:      err,
			},
			RequestID: requestID,
		},
	}
}

func TestClassifyUpdateError(t *testing.T) {
	tests := map[string]struct {
		err            error
		wantReason     string
		wantRetry      RetryPolicy
		wantMessage    string
		wantRequestID  string
		wantRetryAfter time.Duration
	}{
		"ValidationException": {
			err:           sdkError(400, "r-1", &types.ValidationException{Message: aws.String("Field priority: value urgent is not an option.")}),
			wantReason:    casesv1alpha1.ValidationErrorReason,
			wantRetry:     RetryNever,
			wantMessage:   "ValidationException: Field priority: value urgent is not an option (request id r-1)",
			wantRequestID: "r-1",
		},
		"ResourceNotFoundException": {
			err:           sdkError(404, "r-2", &types.ResourceNotFoundException{Message: aws.String("case not found"), ResourceId: aws.String("c"), ResourceType: aws.String("Case")}),
			wantReason:    casesv1alpha1.ResourceNotFoundReason,
			wantRetry:     RetryStalled,
			wantMessage:   "ResourceNotFoundException: case not found (request id r-2)",
			wantRequestID: "r-2",
		},
		"AccessDeniedException": {
			err:           sdkError(403, "r-3", &types.AccessDeniedException{Message: aws.String("not authorized")}),
			wantReason:    casesv1alpha1.AccessDeniedReason,
			wantRetry:     RetryStalled,
			wantMessage:   "AccessDeniedException: not authorized (request id r-3)",
			wantRequestID: "r-3",
		},
		"UnrecognizedClientException": {
			err:           sdkError(403, "r-4", &smithy.GenericAPIError{Code: "UnrecognizedClientException", Message: "The security token included in the request is invalid."}),
			wantReason:    casesv1alpha1.InvalidCredentialsReason,
			wantRetry:     RetryStalled,
			wantMessage:   "UnrecognizedClientException: The security token included in the request is invalid (request id r-4)",
			wantRequestID: "r-4",
		},
		"InvalidSignatureException": {
			err:           sdkError(403, "r-5", &smithy.GenericAPIError{Code: "InvalidSignatureException", Message: "Signature expired"}),
			wantReason:    casesv1alpha1.InvalidCredentialsReason,
			wantRetry:     RetryStalled,
			wantMessage:   "InvalidSignatureException: Signature expired (request id r-5)",
			wantRequestID: "r-5",
		},
		"ExpiredTokenException": {
			err:           sdkError(403, "r-6", &smithy.GenericAPIError{Code: "ExpiredTokenException", Message: "token expired"}),
			wantReason:    casesv1alpha1.InvalidCredentialsReason,
			wantRetry:     RetryStalled,
			wantMessage:   "ExpiredTokenException: token expired (request id r-6)",
			wantRequestID: "r-6",
		},
		"no credentials": {
			err:         &smithy.OperationError{ServiceID: "ConnectCases", OperationName: "UpdateCase", Err: &v4.SigningError{Err: fmt.Errorf("failed to retrieve credentials: %w", errors.New("no EC2 IMDS role found"))}},
			wantReason:  casesv1alpha1.InvalidCredentialsReason,
			wantRetry:   RetryStalled,
			wantMessage: "No AWS credentials could be resolved: no EC2 IMDS role found",
		},
		"ThrottlingException after the SDK's attempts": {
			err:           &retry.MaxAttemptsError{Attempt: 3, Err: sdkError(429, "r-7", &types.ThrottlingException{Message: aws.String("Rate exceeded")})},
			wantReason:    casesv1alpha1.ThrottledReason,
			wantRetry:     RetryBackoff,
			wantMessage:   "ThrottlingException: Rate exceeded (request id r-7)",
			wantRequestID: "r-7",
		},
		"InternalServerException with retryAfterSeconds": {
			err:            sdkError(500, "r-8", &types.InternalServerException{Message: aws.String("internal error"), RetryAfterSeconds: aws.Int32(7)}),
			wantReason:     casesv1alpha1.InternalServerErrorReason,
			wantRetry:      RetryBackoff,
			wantMessage:    "InternalServerException: internal error (request id r-8)",
			wantRequestID:  "r-8",
			wantRetryAfter: 7 * time.Second,
		},
		"unmodelled server fault": {
			err:           sdkError(503, "r-9", &smithy.GenericAPIError{Code: "ServiceUnavailable", Message: "try later", Fault: smithy.FaultServer}),
			wantReason:    casesv1alpha1.InternalServerErrorReason,
			wantRetry:     RetryBackoff,
			wantMessage:   "ServiceUnavailable: try later (request id r-9)",
			wantRequestID: "r-9",
		},
		"unknown client fault": {
			err:           sdkError(409, "r-10", &smithy.GenericAPIError{Code: "ConflictException", Message: "conflict", Fault: smithy.FaultClient}),
			wantReason:    casesv1alpha1.UnexpectedErrorReason,
			wantRetry:     RetryStalled,
			wantMessage:   "ConflictException: conflict (request id r-10)",
			wantRequestID: "r-10",
		},
		"connection reset": {
			err:         &smithy.OperationError{ServiceID: "ConnectCases", OperationName: "UpdateCase", Err: fmt.Errorf("send request: %w", syscall.ECONNRESET)},
			wantReason:  casesv1alpha1.NetworkErrorReason,
			wantRetry:   RetryBackoff,
			wantMessage: "The call to Connect Cases got no answer: connection reset by peer",
		},
		"timeout": {
			err:         &smithy.OperationError{ServiceID: "ConnectCases", OperationName: "UpdateCase", Err: context.DeadlineExceeded},
			wantReason:  casesv1alpha1.NetworkErrorReason,
			wantRetry:   RetryBackoff,
			wantMessage: "The call to Connect Cases timed out",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			got := ClassifyUpdateError(tc.err)
			g.Expect(got.Reason).To(Equal(tc.wantReason))
			g.Expect(got.Retry).To(Equal(tc.wantRetry))
			g.Expect(got.Message).To(Equal(tc.wantMessage))
			g.Expect(got.RequestID).To(Equal(tc.wantRequestID))
			g.Expect(got.RetryAfter).To(Equal(tc.wantRetryAfter))
			g.Expect(got.Stalled()).To(Equal(tc.wantRetry != RetryBackoff))
		})
	}
}

func TestFullJitterBackoff(t *testing.T) {
	tests := map[string]struct {
		failures int32
		min, max time.Duration
	}{
		"first failure waits the base":      {failures: 1, min: time.Second, max: time.Second},
		"second failure up to twice":        {failures: 2, min: time.Second, max: 2 * time.Second},
		"fifth failure up to sixteen":       {failures: 5, min: time.Second, max: 16 * time.Second},
		"many failures capped at the limit": {failures: 60, min: time.Second, max: 5 * time.Minute},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			for range 200 {
				d := fullJitterBackoff(tc.failures, time.Second, 5*time.Minute)
				g.Expect(d).To(And(BeNumerically(">=", tc.min), BeNumerically("<=", tc.max)))
			}
		})
	}
}

func TestRequeueAfter(t *testing.T) {
	r := &CaseFieldUpdateReconciler{StalledRetryInterval: 10 * time.Minute, MaxBackoff: time.Minute}
	tests := map[string]struct {
		outcome  Outcome
		failures int32
		min, max time.Duration
	}{
		"applied is not requeued":            {outcome: Outcome{Retry: RetryNever}, failures: 0},
		"stalled waits the interval ±10%":    {outcome: Outcome{Retry: RetryStalled}, failures: 3, min: 9 * time.Minute, max: 11 * time.Minute},
		"backoff is capped by max-backoff":   {outcome: Outcome{Retry: RetryBackoff}, failures: 30, min: time.Second, max: time.Minute},
		"retryAfterSeconds is a lower bound": {outcome: Outcome{Retry: RetryBackoff, RetryAfter: 30 * time.Second}, failures: 1, min: 30 * time.Second, max: 30 * time.Second},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			for range 100 {
				g.Expect(r.requeueAfter(tc.outcome, tc.failures)).To(And(BeNumerically(">=", tc.min), BeNumerically("<=", tc.max)))
			}
		})
	}
}
