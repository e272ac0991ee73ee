package controllers

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/emulator"
)

// TestRequeueOnFailure drives one reconcile per row under each requeue
// policy: under RequeueRateLimiter a transient failure ends the reconcile
// with ErrTransientFailure and no requeue time, for controller-runtime's
// rate limiter to decide; anything else ends as under RequeueBackoff. The
// status is written either way.
func TestRequeueOnFailure(t *testing.T) {
	type want struct {
		reason                 string
		err                    bool
		minRequeue, maxRequeue time.Duration
	}
	throttle := func(h *harness) {
		h.emu.SetFaults([]emulator.Fault{{Operation: "UpdateCase", Kind: "ThrottlingException", Count: 3}})
	}
	tests := map[string]struct {
		policy  RequeuePolicy
		domain  string
		prepare func(h *harness)
		want    want
	}{
		"controller-runtime, throttled": {policy: RequeueRateLimiter, prepare: throttle,
			want: want{reason: casesv1alpha1.ThrottledReason, err: true}},
		"controller-runtime, stalled": {policy: RequeueRateLimiter, domain: "domain-locked",
			want: want{reason: casesv1alpha1.AccessDeniedReason, minRequeue: 54 * time.Second, maxRequeue: 66 * time.Second}},
		"controller-runtime, applied": {policy: RequeueRateLimiter,
			want: want{reason: casesv1alpha1.AppliedReason}},
		"backoff, throttled": {policy: RequeueBackoff, prepare: throttle,
			want: want{reason: casesv1alpha1.ThrottledReason, minRequeue: time.Second, maxRequeue: time.Second}},
		"default, throttled": {prepare: throttle,
			want: want{reason: casesv1alpha1.ThrottledReason, minRequeue: time.Second, maxRequeue: time.Second}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			ctx := context.Background()
			h := newHarness(t, harnessOptions{})
			obj := h.newObject("obj", "case-1", stringField("priority", "high"))
			if tc.domain != "" {
				obj.Spec.DomainID = tc.domain
			}
			r := h.createForReconcile(obj)
			r.RequeueOnFailure = tc.policy
			if tc.prepare != nil {
				tc.prepare(h)
			}

			res, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(obj)})
			if tc.want.err {
				g.Expect(err).To(MatchError(ErrTransientFailure))
				g.Expect(err.Error()).To(ContainSubstring(obj.Namespace + "/obj"))
			} else {
				g.Expect(err).NotTo(HaveOccurred())
			}
			g.Expect(res.RequeueAfter).To(And(BeNumerically(">=", tc.want.minRequeue), BeNumerically("<=", tc.want.maxRequeue)))
			got := h.get(obj)
			g.Expect(readyReason(got)).To(Equal(tc.want.reason))
			if tc.want.reason != casesv1alpha1.AppliedReason {
				g.Expect(got.Status.Failures).To(Equal(int32(1)))
			}
		})
	}
}
