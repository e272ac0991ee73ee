package main

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

// Values of --requeue-on-failure.
const (
	// requeueBackoff is the operator's own policy: a transient failure is
	// tried again after a jittered exponential backoff that honours the
	// answer's Retry-After.
	requeueBackoff = "backoff"
	// requeueControllerRuntime is a typical controller's: the reconcile
	// returns the failure as an error, and controller-runtime's default
	// rate limiter (per object exponential from 5 ms to 1000 s, within 10
	// requeues a second and a burst of 100) decides when it runs again.
	requeueControllerRuntime = "controller-runtime"
)

// errTransientFailure is what a reconcile returns under
// --requeue-on-failure=controller-runtime when it recorded a transient
// failure.
var errTransientFailure = errors.New("transient failure recorded in the status: requeued by controller-runtime's rate limiter")

// reconcilerClient returns the client the reconciler writes with. Under
// --requeue-on-failure=controller-runtime its status writes report each
// transient failure they record (Reconciling True with failures counted) as
// an error, once the write is done: the reconcile then ends with that error,
// and controller-runtime requeues the object with its default rate limiter
// instead of the reconciler's backoff. The status and Events are those of
// the operator either way. It serves the benchmarks' typical-controller
// peer: the operator runs with the default, backoff.
func reconcilerClient(c client.Client, policy string) client.Client {
	if policy != requeueControllerRuntime {
		return c
	}
	return &errorOnFailureClient{Client: c}
}

// errorOnFailureClient is a client whose status writer answers a write that
// records a transient failure with errTransientFailure.
type errorOnFailureClient struct {
	client.Client
}

// Status returns the wrapped status writer.
func (c *errorOnFailureClient) Status() client.SubResourceWriter {
	return &errorOnFailureWriter{SubResourceWriter: c.Client.Status()}
}

// errorOnFailureWriter is the status writer of an errorOnFailureClient.
type errorOnFailureWriter struct {
	client.SubResourceWriter
}

// Patch writes the status, then reports a transient failure that it
// recorded as errTransientFailure.
func (w *errorOnFailureWriter) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	if err := w.SubResourceWriter.Patch(ctx, obj, patch, opts...); err != nil {
		return err
	}
	if cfu, ok := obj.(*casesv1alpha1.CaseFieldUpdate); ok && recordsTransientFailure(cfu) {
		return fmt.Errorf("%s/%s: %w", cfu.Namespace, cfu.Name, errTransientFailure)
	}
	return nil
}

// recordsTransientFailure reports whether obj's status records a failure
// that is being retried: counted failures with Reconciling True. Stalled
// objects keep the reconciler's own retry interval, as a typical controller
// treats a terminal error.
func recordsTransientFailure(obj *casesv1alpha1.CaseFieldUpdate) bool {
	return obj.Status.Failures > 0 && meta.IsStatusConditionPresentAndEqual(obj.Status.Conditions, casesv1alpha1.ReconcilingCondition, metav1.ConditionTrue)
}
