package cases

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// CredentialsError reports that no usable credentials could be resolved for
// a call. The SDK passes credential failures up as plain wrapped errors; this
// type lets the controller tell them from network failures.
type CredentialsError struct {
	// Err is the credential chain's error.
	Err error
}

// Error implements error.
func (e *CredentialsError) Error() string { return e.Err.Error() }

// Unwrap returns the credential chain's error.
func (e *CredentialsError) Unwrap() error { return e.Err }

// GuardCredentials wraps a credentials provider so that its failures are
// reported as *CredentialsError, and so that empty (anonymous) credentials
// are refused instead of producing unsigned requests.
func GuardCredentials(p aws.CredentialsProvider) aws.CredentialsProvider {
	return &guardedCredentials{inner: p}
}

type guardedCredentials struct {
	inner aws.CredentialsProvider
}

// Retrieve implements aws.CredentialsProvider.
func (g *guardedCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	if g.inner == nil {
		return aws.Credentials{}, &CredentialsError{Err: errors.New("no AWS credentials provider is configured")}
	}
	creds, err := g.inner.Retrieve(ctx)
	if err != nil {
		return aws.Credentials{}, &CredentialsError{Err: fmt.Errorf("no AWS credentials could be resolved: %w", err)}
	}
	if creds.AccessKeyID == "" || creds.SecretAccessKey == "" {
		return aws.Credentials{}, &CredentialsError{Err: errors.New("the resolved AWS credentials are empty: requests would be unsigned")}
	}
	return creds, nil
}
