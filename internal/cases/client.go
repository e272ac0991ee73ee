// Package cases configures the aws-sdk-go-v2 Connect Cases client used by the
// operator: credentials and region from the SDK's default chain, a retryer
// that hands slow failures back to the controller quickly, and helpers that
// read request ids from answers and errors.
package cases

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/smithy-go/middleware"
	"github.com/go-logr/logr"
)

// Defaults of the SDK retryer. The controller does the long waiting with its
// requeue backoff, so a throttled or failing call comes back within about a
// second: 3 attempts, at most 400ms between two of them.
const (
	DefaultMaxAttempts = 3
	DefaultMaxBackoff  = 400 * time.Millisecond
)

// Options configure the Connect Cases client.
type Options struct {
	// Region overrides the region of the default chain (AWS_REGION, shared
	// config) when set.
	Region string

	// MaxAttempts is the SDK retryer's number of attempts per call;
	// DefaultMaxAttempts when zero.
	MaxAttempts int

	// MaxBackoff is the longest wait of the SDK retryer between two attempts;
	// DefaultMaxBackoff when zero. An answer that asks for a longer wait
	// (Retry-After) is not retried within the call: it goes back to the
	// controller, which requeues no sooner than asked.
	MaxBackoff time.Duration

	// Retryer, when set, replaces the retryer built from MaxAttempts and
	// MaxBackoff, Retry-After handling included.
	Retryer func() aws.Retryer

	// NoThrottleRetries stops the SDK from retrying throttled attempts. With
	// a client-side rate limiter pacing the calls, an immediate retry of a
	// throttle only spends more of the quota; the limiter slows down and the
	// controller retries later instead.
	NoThrottleRetries bool

	// ClientLogMode turns on the SDK's own logs (requests, responses,
	// signing, retries); they go to Logger at debug level. Off when zero.
	ClientLogMode aws.ClientLogMode

	// Logger receives the SDK's client logs when the call's context carries
	// no logr logger; discarded when zero.
	Logger logr.Logger
}

// LoadConfig resolves the AWS configuration from the SDK's default chain:
// environment, shared config and credentials files, web identity (IRSA), EKS
// Pod Identity and instance metadata. The endpoint comes from the chain too,
// so AWS_ENDPOINT_URL_CONNECTCASES points the client at another endpoint,
// such as the project's emulator.
//
// A region is required. Credentials are resolved lazily by the SDK, at the
// first call; CheckCredentials resolves them at once.
func LoadConfig(ctx context.Context, opts Options) (aws.Config, error) {
	var loadOpts []func(*config.LoadOptions) error
	if opts.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(opts.Region))
	}
	retryer := opts.Retryer
	if retryer == nil {
		retryer = standardRetryer(opts)
	}
	loadOpts = append(loadOpts, config.WithRetryer(retryer))

	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("failed to load the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, errors.New("no AWS region is configured: set AWS_REGION or --aws-region")
	}
	cfg.Credentials = GuardCredentials(cfg.Credentials)
	cfg.ClientLogMode = opts.ClientLogMode
	cfg.Logger = sdkLogger{base: opts.Logger}
	return cfg, nil
}

// CheckCredentials resolves the credentials of cfg once, so that a missing
// credential source is reported at start-up with the chain's own words.
func CheckCredentials(ctx context.Context, cfg aws.Config) error {
	_, err := GuardCredentials(cfg.Credentials).Retrieve(ctx)
	return err
}

// NewClient returns a Connect Cases client for cfg. Every attempt of every
// call is counted in the connectcases_api_* metrics and logged at V(1) with
// its request id.
func NewClient(cfg aws.Config, optFns ...func(*connectcases.Options)) *connectcases.Client {
	withTelemetry := func(o *connectcases.Options) { o.APIOptions = append(o.APIOptions, addTelemetry) }
	return connectcases.NewFromConfig(cfg, append([]func(*connectcases.Options){withTelemetry}, optFns...)...)
}

// RequestIDFromMetadata returns the AWS request id of a successful call.
func RequestIDFromMetadata(md middleware.Metadata) string {
	id, _ := awsmiddleware.GetRequestIDMetadata(md)
	return id
}

// RequestIDFromError returns the AWS request id carried by a failed call's
// error, or "" when the call got no answer.
func RequestIDFromError(err error) string {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.ServiceRequestID()
	}
	return ""
}

// HTTPStatusFromError returns the HTTP status of a failed call's answer, or 0
// when the call got no answer.
func HTTPStatusFromError(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}
