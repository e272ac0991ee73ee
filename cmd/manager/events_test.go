package main

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

// testObject returns a CaseFieldUpdate to report on.
func testObject(name string) *casesv1alpha1.CaseFieldUpdate {
	return &casesv1alpha1.CaseFieldUpdate{
		TypeMeta:   metav1.TypeMeta{APIVersion: casesv1alpha1.GroupVersion.String(), Kind: "CaseFieldUpdate"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: name, UID: types.UID("uid-" + name)},
	}
}

// testScheme returns a scheme with the CaseFieldUpdate kinds.
func testScheme(g Gomega) *runtime.Scheme {
	scheme := runtime.NewScheme()
	g.Expect(casesv1alpha1.AddToScheme(scheme)).To(Succeed())
	return scheme
}

func TestEventRecorderSendsEachEvent(t *testing.T) {
	g := NewWithT(t)
	cs := fake.NewClientset()
	rec := newEventRecorder(testScheme(g), cs.EventsV1(), "connectcases-operator")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error)
	go func() { done <- rec.Start(ctx) }()

	// The same Event twice is created twice: there is no series cache.
	for range 2 {
		rec.Eventf(testObject("obj-1"), nil, corev1.EventTypeNormal, casesv1alpha1.AppliedReason, "UpdateCase", "Applied %d fields", 4)
	}
	rec.Eventf(testObject("obj-2"), nil, corev1.EventTypeWarning, casesv1alpha1.ThrottledReason, "UpdateCase", "%s", "Throttled")
	rec.Eventf(testObject("obj-3"), nil, "Unknown", "Odd", "UpdateCase", "Not sent")

	var list *eventsv1.EventList
	g.Eventually(func(g Gomega) {
		var err error
		list, err = cs.EventsV1().Events("team-a").List(ctx, metav1.ListOptions{})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(list.Items).To(HaveLen(3))
	}, 10*time.Second, 10*time.Millisecond).Should(Succeed())
	byReason := map[string][]eventsv1.Event{}
	for _, ev := range list.Items {
		byReason[ev.Reason] = append(byReason[ev.Reason], ev)
	}
	g.Expect(byReason[casesv1alpha1.AppliedReason]).To(HaveLen(2))
	applied := byReason[casesv1alpha1.AppliedReason][0]
	g.Expect(applied.Note).To(Equal("Applied 4 fields"))
	g.Expect(applied.Type).To(Equal(corev1.EventTypeNormal))
	g.Expect(applied.Action).To(Equal("UpdateCase"))
	g.Expect(applied.ReportingController).To(Equal("connectcases-operator"))
	g.Expect(applied.ReportingInstance).To(HavePrefix("connectcases-operator-"))
	g.Expect(applied.Regarding.Kind).To(Equal("CaseFieldUpdate"))
	g.Expect(applied.Regarding.Name).To(Equal("obj-1"))
	g.Expect(applied.Series).To(BeNil())
	g.Expect(applied.EventTime.IsZero()).To(BeFalse())
	g.Expect(byReason[casesv1alpha1.ThrottledReason]).To(HaveLen(1))
	g.Expect(byReason[casesv1alpha1.ThrottledReason][0].Type).To(Equal(corev1.EventTypeWarning))

	cancel()
	g.Eventually(done, 10*time.Second).Should(Receive(BeNil()))
}

func TestEventRecorderRetriesAndGivesUp(t *testing.T) {
	tests := map[string]struct {
		failures  int
		err       error
		wantTries int
		wantSent  bool
	}{
		"a server error, then success": {failures: 2, err: apierrors.NewServiceUnavailable("busy"), wantTries: 3, wantSent: true},
		"server errors every time":     {failures: 10, err: apierrors.NewServiceUnavailable("busy"), wantTries: eventAttempts},
		"refused":                      {failures: 10, err: apierrors.NewForbidden(schema.GroupResource{Resource: "events"}, "x", nil), wantTries: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			cs := fake.NewClientset()
			tries := 0
			cs.PrependReactor("create", "events", func(k8stesting.Action) (bool, runtime.Object, error) {
				tries++
				if tries <= tc.failures {
					return true, nil, tc.err
				}
				return false, nil, nil
			})
			rec := newEventRecorder(testScheme(g), cs.EventsV1(), "connectcases-operator")
			rec.retryWait = time.Millisecond
			rec.Eventf(testObject("obj-1"), nil, corev1.EventTypeNormal, casesv1alpha1.AppliedReason, "UpdateCase", "Applied")
			rec.send(context.Background(), <-rec.queue)
			g.Expect(tries).To(Equal(tc.wantTries))
			list, err := cs.EventsV1().Events("team-a").List(context.Background(), metav1.ListOptions{})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(list.Items).To(HaveLen(map[bool]int{true: 1, false: 0}[tc.wantSent]))
		})
	}
}

func TestEventRecorderDropsWhenFull(t *testing.T) {
	g := NewWithT(t)
	rec := newEventRecorder(testScheme(g), fake.NewClientset().EventsV1(), "connectcases-operator")
	for range eventQueueSize + 5 {
		rec.Eventf(testObject("obj-1"), nil, corev1.EventTypeNormal, casesv1alpha1.AppliedReason, "UpdateCase", "Applied")
	}
	g.Expect(rec.queue).To(HaveLen(eventQueueSize))
}
