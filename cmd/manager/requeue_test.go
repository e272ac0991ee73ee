package main

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

func TestReconcilerClient(t *testing.T) {
	ready := func(st metav1.ConditionStatus, reason string) metav1.Condition {
		return metav1.Condition{Type: casesv1alpha1.ReadyCondition, Status: st, Reason: reason, Message: reason}
	}
	tests := map[string]struct {
		policy     string
		failures   int32
		conditions []metav1.Condition
		wantErr    bool
	}{
		"controller-runtime, transient failure": {
			policy: requeueControllerRuntime, failures: 1, wantErr: true,
			conditions: []metav1.Condition{ready(metav1.ConditionFalse, casesv1alpha1.ThrottledReason),
				{Type: casesv1alpha1.ReconcilingCondition, Status: metav1.ConditionTrue, Reason: casesv1alpha1.ThrottledReason, Message: "Throttled"}},
		},
		"controller-runtime, applied": {
			policy: requeueControllerRuntime, conditions: []metav1.Condition{ready(metav1.ConditionTrue, casesv1alpha1.AppliedReason)},
		},
		"controller-runtime, stalled": {
			policy: requeueControllerRuntime, failures: 1,
			conditions: []metav1.Condition{ready(metav1.ConditionFalse, casesv1alpha1.AccessDeniedReason),
				{Type: casesv1alpha1.StalledCondition, Status: metav1.ConditionTrue, Reason: casesv1alpha1.AccessDeniedReason, Message: "Denied"}},
		},
		"backoff, transient failure": {
			policy: requeueBackoff, failures: 1,
			conditions: []metav1.Condition{ready(metav1.ConditionFalse, casesv1alpha1.ThrottledReason),
				{Type: casesv1alpha1.ReconcilingCondition, Status: metav1.ConditionTrue, Reason: casesv1alpha1.ThrottledReason, Message: "Throttled"}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			scheme := runtime.NewScheme()
			g.Expect(casesv1alpha1.AddToScheme(scheme)).To(Succeed())
			obj := &casesv1alpha1.CaseFieldUpdate{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "obj", Generation: 1}}
			base := fake.NewClientBuilder().WithScheme(scheme).WithObjects(obj).WithStatusSubresource(obj).Build()
			c := reconcilerClient(base, tc.policy)

			g.Expect(c.Get(context.Background(), client.ObjectKeyFromObject(obj), obj)).To(Succeed())
			before := obj.DeepCopy()
			obj.Status.Failures = tc.failures
			for _, cond := range tc.conditions {
				meta.SetStatusCondition(&obj.Status.Conditions, cond)
			}
			err := c.Status().Patch(context.Background(), obj, client.MergeFrom(before))
			if tc.wantErr {
				g.Expect(err).To(MatchError(errTransientFailure))
			} else {
				g.Expect(err).NotTo(HaveOccurred())
			}
			// The status is written whatever the policy.
			got := &casesv1alpha1.CaseFieldUpdate{}
			g.Expect(base.Get(context.Background(), client.ObjectKeyFromObject(obj), got)).To(Succeed())
			g.Expect(got.Status.Failures).To(Equal(tc.failures))
			g.Expect(got.Status.Conditions).To(HaveLen(len(tc.conditions)))
		})
	}
}

func TestParseFlagsRequeueOnFailure(t *testing.T) {
	tests := map[string]struct {
		args    []string
		want    string
		wantErr bool
	}{
		"default":            {want: requeueBackoff},
		"controller-runtime": {args: []string{"--requeue-on-failure=controller-runtime"}, want: requeueControllerRuntime},
		"unknown":            {args: []string{"--requeue-on-failure=never"}, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			o, err := parseFlags(tc.args)
			if tc.wantErr {
				g.Expect(err).To(MatchError(ContainSubstring("--requeue-on-failure")))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(o.requeueOnFailure).To(Equal(tc.want))
		})
	}
}
