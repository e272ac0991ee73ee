package connections

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/smithy-go/middleware"

	"github.com/connectcases-operator/connectcases-operator/internal/metrics"
)

// connectionNameID names the middleware that labels a connection's calls.
const connectionNameID = "ConnectCasesConnectionName"

// withConnectionName adds to a client's stack a middleware that names the
// connection in the context of each call, so that the telemetry middleware
// counts its attempts under the connection label.
func withConnectionName(name string) func(*connectcases.Options) {
	return func(o *connectcases.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Initialize.Add(middleware.InitializeMiddlewareFunc(connectionNameID,
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					return next.HandleInitialize(metrics.WithConnection(ctx, name), in)
				}), middleware.Before)
		})
	}
}
