package controllers

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/cases"
	"github.com/connectcases-operator/connectcases-operator/internal/emulator"
)

const (
	timeout  = 60 * time.Second
	interval = 100 * time.Millisecond
)

func TestAppliesEachGenerationOnce(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t, harnessOptions{})
	h.startManager(nil)
	ctx := context.Background()

	obj := h.newObject("priority", "case-1", stringField("priority", "high"), boolField("escalated", true), doubleField("score", 4.5))
	g.Expect(k8sClient.Create(ctx, obj)).To(Succeed())
	g.Eventually(h.readyReasonOf(obj), timeout, interval).Should(Equal(casesv1alpha1.AppliedReason))

	got := h.get(obj)
	g.Expect(got.Status.LastAppliedTime).NotTo(BeNil())
	g.Expect(got.Status.LastRequestID).NotTo(BeEmpty())
	g.Expect(got.Status.Failures).To(BeZero())
	values, ok := h.emu.CaseFields("domain-1", "case-1")
	g.Expect(ok).To(BeTrue())
	g.Expect(*values["priority"].StringValue).To(Equal("high"))
	g.Expect(*values["escalated"].BooleanValue).To(BeTrue())
	g.Expect(*values["score"].DoubleValue).To(Equal(4.5))
	g.Expect(h.updateCalls("case-1")).To(Equal(1))
	g.Eventually(h.eventReasons(obj), timeout, interval).Should(Equal([]string{"Normal/Applied"}))

	// A new generation is applied once more.
	got.Spec.Fields[0] = stringField("priority", "low")
	g.Expect(k8sClient.Update(ctx, got)).To(Succeed())
	g.Eventually(func(g Gomega) {
		cur := h.get(obj)
		g.Expect(cur.Status.ObservedGeneration).To(Equal(int64(2)))
		g.Expect(readyReason(cur)).To(Equal(casesv1alpha1.AppliedReason))
	}, timeout, interval).Should(Succeed())
	values, _ = h.emu.CaseFields("domain-1", "case-1")
	g.Expect(*values["priority"].StringValue).To(Equal("low"))
	g.Expect(h.updateCalls("case-1")).To(Equal(2))
	g.Eventually(h.eventReasons(obj), timeout, interval).Should(Equal([]string{"Normal/Applied", "Normal/Applied"}))
}

func TestManagerRestartSendsNothingForReadyObjects(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t, harnessOptions{})
	stop := h.startManager(nil)
	ctx := context.Background()

	objs := []*casesv1alpha1.CaseFieldUpdate{
		h.newObject("a", "case-1", stringField("summary", "a")),
		h.newObject("b", "case-2", stringField("summary", "b")),
		h.newObject("c", "case-3", stringField("summary", "c")),
	}
	for _, o := range objs {
		g.Expect(k8sClient.Create(ctx, o)).To(Succeed())
	}
	for _, o := range objs {
		g.Eventually(h.readyReasonOf(o), timeout, interval).Should(Equal(casesv1alpha1.AppliedReason))
	}
	g.Expect(h.emu.CallCount("UpdateCase", "")).To(Equal(3))
	stop()

	before := reconcileCount(g)
	h.startManager(nil)
	// The new manager reconciles every object of its initial list once.
	g.Eventually(reconcileCount, timeout, interval).Should(BeNumerically(">=", before+3))
	g.Expect(h.emu.CallCount("UpdateCase", "")).To(Equal(3))
}

func TestThrottledThenApplied(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t, harnessOptions{})
	// Every SDK attempt of the first reconcile is throttled.
	h.emu.SetFaults([]emulator.Fault{{Operation: "UpdateCase", Kind: "ThrottlingException", Count: 3}})
	h.startManager(nil)

	obj := h.newObject("throttled", "case-2", stringField("priority", "high"))
	g.Expect(k8sClient.Create(context.Background(), obj)).To(Succeed())
	g.Eventually(h.readyReasonOf(obj), timeout, interval).Should(Equal(casesv1alpha1.AppliedReason))
	g.Eventually(h.eventReasons(obj), timeout, interval).Should(Equal([]string{"Warning/Throttled", "Normal/Applied"}))
	g.Expect(h.emu.CallCount("UpdateCase", "ThrottlingException")).To(Equal(3))
	g.Expect(h.emu.CallCount("UpdateCase", "OK")).To(Equal(1))
	got := h.get(obj)
	g.Expect(got.Status.Failures).To(BeZero())
	g.Expect(got.Status.Conditions).To(HaveLen(1), "Reconciling is removed once applied")
}

func TestValidationErrorWaitsForSpecChange(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t, harnessOptions{})
	h.startManager(nil)
	ctx := context.Background()

	obj := h.newObject("bad-option", "case-3", stringField("priority", "urgent"))
	g.Expect(k8sClient.Create(ctx, obj)).To(Succeed())
	g.Eventually(h.readyReasonOf(obj), timeout, interval).Should(Equal(casesv1alpha1.ValidationErrorReason))
	g.Expect(h.updateCalls("case-3")).To(Equal(1))
	g.Eventually(h.eventReasons(obj), timeout, interval).Should(Equal([]string{"Warning/ValidationError"}))

	// An annotation change reconciles the object, but the same generation
	// is not sent again.
	before := reconcileCount(g)
	cur := h.get(obj)
	cur.Annotations = map[string]string{"example.com/touched": "yes"}
	g.Expect(k8sClient.Update(ctx, cur)).To(Succeed())
	g.Eventually(reconcileCount, timeout, interval).Should(BeNumerically(">", before))
	g.Expect(h.updateCalls("case-3")).To(Equal(1))

	// Fixing the spec applies it.
	cur = h.get(obj)
	cur.Spec.Fields[0] = stringField("priority", "low")
	g.Expect(k8sClient.Update(ctx, cur)).To(Succeed())
	g.Eventually(h.readyReasonOf(obj), timeout, interval).Should(Equal(casesv1alpha1.AppliedReason))
	g.Expect(h.updateCalls("case-3")).To(Equal(2))
	g.Expect(condition(h.get(obj), casesv1alpha1.StalledCondition)).To(BeNil())
}

func TestResourceNotFoundIsRetriedAtTheStalledInterval(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t, harnessOptions{})
	h.startManager(func(r *CaseFieldUpdateReconciler) { r.StalledRetryInterval = time.Second })

	obj := h.newObject("missing", "case-404", stringField("summary", "x"))
	g.Expect(k8sClient.Create(context.Background(), obj)).To(Succeed())
	g.Eventually(h.readyReasonOf(obj), timeout, interval).Should(Equal(casesv1alpha1.ResourceNotFoundReason))
	g.Eventually(func() int { return h.updateCalls("case-404") }, timeout, interval).Should(BeNumerically(">=", 3))
	got := h.get(obj)
	g.Expect(got.Status.Failures).To(BeNumerically(">=", 2))
	g.Expect(condition(got, casesv1alpha1.StalledCondition).Reason).To(Equal(casesv1alpha1.ResourceNotFoundReason))
	// One Warning for the reason, however many retries.
	g.Expect(h.eventReasons(obj)(g)).To(Equal([]string{"Warning/ResourceNotFound"}))
}

// TestOutcomes drives one reconcile per row against the emulator, through the
// real SDK client, and checks the conditions, the Event and the requeue.
func TestOutcomes(t *testing.T) {
	type want struct {
		reason      string
		ready       metav1.ConditionStatus
		stalled     bool
		reconciling bool
		event       string
		minRequeue  time.Duration
		maxRequeue  time.Duration
		message     string
		answered    bool // the service answered, with a request id
	}
	tests := map[string]struct {
		fields  []casesv1alpha1.CaseField
		domain  string
		caseID  string
		prepare func(h *harness, r *CaseFieldUpdateReconciler)
		want    want
	}{
		"Applied": {
			want: want{reason: casesv1alpha1.AppliedReason, ready: metav1.ConditionTrue, event: "Normal/Applied",
				message: "Applied 1 field to case case-1 in domain domain-1", answered: true},
		},
		"ValidationError": {
			fields: []casesv1alpha1.CaseField{boolField("summary", true)},
			want: want{reason: casesv1alpha1.ValidationErrorReason, ready: metav1.ConditionFalse, stalled: true,
				event: "Warning/ValidationError", message: "ValidationException: ", answered: true},
		},
		"ResourceNotFound": {
			caseID: "case-missing",
			want: want{reason: casesv1alpha1.ResourceNotFoundReason, ready: metav1.ConditionFalse, stalled: true,
				event: "Warning/ResourceNotFound", minRequeue: 54 * time.Second, maxRequeue: 66 * time.Second,
				message: "ResourceNotFoundException: ", answered: true},
		},
		"AccessDenied": {
			domain: "domain-locked",
			want: want{reason: casesv1alpha1.AccessDeniedReason, ready: metav1.ConditionFalse, stalled: true,
				event: "Warning/AccessDenied", minRequeue: 54 * time.Second, maxRequeue: 66 * time.Second,
				message: "AccessDeniedException: ", answered: true},
		},
		"InvalidCredentials (unknown key)": {
			prepare: func(h *harness, r *CaseFieldUpdateReconciler) {
				r.Cases = h.newCasesClient(testUnknownKey, "whatever")
			},
			want: want{reason: casesv1alpha1.InvalidCredentialsReason, ready: metav1.ConditionFalse, stalled: true,
				event: "Warning/InvalidCredentials", minRequeue: 54 * time.Second, maxRequeue: 66 * time.Second,
				message: "UnrecognizedClientException: ", answered: true},
		},
		"InvalidCredentials (wrong secret)": {
			prepare: func(h *harness, r *CaseFieldUpdateReconciler) {
				r.Cases = h.newCasesClient(testAccessKey, "not-the-secret")
			},
			want: want{reason: casesv1alpha1.InvalidCredentialsReason, ready: metav1.ConditionFalse, stalled: true,
				event: "Warning/InvalidCredentials", minRequeue: 54 * time.Second, maxRequeue: 66 * time.Second,
				message: "InvalidSignatureException: ", answered: true},
		},
		"InvalidCredentials (none resolved)": {
			prepare: func(h *harness, r *CaseFieldUpdateReconciler) {
				r.Cases = connectcases.New(connectcases.Options{
					Region:       testRegion,
					BaseEndpoint: aws.String(h.url),
					Credentials: cases.GuardCredentials(aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
						return aws.Credentials{}, errors.New("no credential source is configured")
					}))),
				})
			},
			want: want{reason: casesv1alpha1.InvalidCredentialsReason, ready: metav1.ConditionFalse, stalled: true,
				event: "Warning/InvalidCredentials", minRequeue: 54 * time.Second, maxRequeue: 66 * time.Second,
				message: "No AWS credentials could be resolved: "},
		},
		"Throttled": {
			prepare: func(h *harness, _ *CaseFieldUpdateReconciler) {
				h.emu.SetFaults([]emulator.Fault{{Operation: "UpdateCase", Kind: "ThrottlingException", Count: 3}})
			},
			want: want{reason: casesv1alpha1.ThrottledReason, ready: metav1.ConditionFalse, reconciling: true,
				event: "Warning/Throttled", minRequeue: time.Second, maxRequeue: time.Second,
				message: "ThrottlingException: ", answered: true},
		},
		"InternalServerError": {
			prepare: func(h *harness, _ *CaseFieldUpdateReconciler) {
				h.emu.SetFaults([]emulator.Fault{{Operation: "UpdateCase", Kind: "InternalServerException", Count: 3, RetryAfterSeconds: 7}})
			},
			want: want{reason: casesv1alpha1.InternalServerErrorReason, ready: metav1.ConditionFalse, reconciling: true,
				event: "Warning/InternalServerError", minRequeue: 7 * time.Second, maxRequeue: 7 * time.Second,
				message: "InternalServerException: ", answered: true},
		},
		"NetworkError": {
			prepare: func(h *harness, _ *CaseFieldUpdateReconciler) {
				h.emu.SetFaults([]emulator.Fault{{Operation: "UpdateCase", Kind: "ConnectionReset", Count: 3}})
			},
			want: want{reason: casesv1alpha1.NetworkErrorReason, ready: metav1.ConditionFalse, reconciling: true,
				event: "Warning/NetworkError", minRequeue: time.Second, maxRequeue: time.Second,
				message: "The call to Connect Cases got no answer: "},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			h := newHarness(t, harnessOptions{})
			ctx := context.Background()
			fields := tc.fields
			if fields == nil {
				fields = []casesv1alpha1.CaseField{stringField("summary", "updated")}
			}
			obj := h.newObject("outcome", "case-1", fields...)
			if tc.caseID != "" {
				obj.Spec.CaseID = tc.caseID
			}
			if tc.domain != "" {
				obj.Spec.DomainID = tc.domain
			}
			r := h.createForReconcile(obj)
			cl := r.Client
			broadcaster := events.NewBroadcaster(&events.EventSinkImpl{Interface: kubernetes.NewForConfigOrDie(restConfig).EventsV1()})
			stopCh := make(chan struct{})
			broadcaster.StartRecordingToSink(stopCh)
			t.Cleanup(func() { close(stopCh); broadcaster.Shutdown() })
			r.Recorder = broadcaster.NewRecorder(scheme, "connectcases-operator")
			if tc.prepare != nil {
				tc.prepare(h, r)
			}

			res, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Namespace: obj.Namespace, Name: obj.Name}})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(res.RequeueAfter).To(And(BeNumerically(">=", tc.want.minRequeue), BeNumerically("<=", tc.want.maxRequeue)))

			got := h.get(obj)
			g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
			ready := condition(got, casesv1alpha1.ReadyCondition)
			g.Expect(ready).NotTo(BeNil())
			g.Expect(ready.Status).To(Equal(tc.want.ready))
			g.Expect(ready.Reason).To(Equal(tc.want.reason))
			g.Expect(ready.Message).To(HavePrefix(tc.want.message))
			g.Expect(ready.Message).NotTo(HaveSuffix("."))
			g.Expect(condition(got, casesv1alpha1.StalledCondition) != nil).To(Equal(tc.want.stalled))
			g.Expect(condition(got, casesv1alpha1.ReconcilingCondition) != nil).To(Equal(tc.want.reconciling))
			if tc.want.reason != casesv1alpha1.AppliedReason {
				g.Expect(got.Status.Failures).To(Equal(int32(1)))
			}
			if tc.want.answered {
				// The message quotes the request id of the service's answer.
				g.Expect(got.Status.LastRequestID).NotTo(BeEmpty())
				if tc.want.reason != casesv1alpha1.AppliedReason {
					g.Expect(ready.Message).To(HaveSuffix("(request id " + got.Status.LastRequestID + ")"))
				}
			}
			g.Eventually(h.eventReasons(obj), timeout, interval).Should(Equal([]string{tc.want.event}))

			// A second reconcile of a settled generation sends nothing.
			if tc.want.reason == casesv1alpha1.AppliedReason || tc.want.reason == casesv1alpha1.ValidationErrorReason {
				calls := h.emu.CallCount("UpdateCase", "")
				g.Eventually(func(g Gomega) {
					cached := &casesv1alpha1.CaseFieldUpdate{}
					g.Expect(cl.Get(ctx, client.ObjectKeyFromObject(obj), cached)).To(Succeed())
					g.Expect(readyReason(cached)).To(Equal(tc.want.reason))
				}, timeout, interval).Should(Succeed())
				res, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(obj)})
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(res.RequeueAfter).To(BeZero())
				g.Expect(h.emu.CallCount("UpdateCase", "")).To(Equal(calls))
			}
		})
	}
}

// condition returns obj's condition of type t, or nil.
func condition(obj *casesv1alpha1.CaseFieldUpdate, t string) *metav1.Condition {
	for i := range obj.Status.Conditions {
		if obj.Status.Conditions[i].Type == t {
			return &obj.Status.Conditions[i]
		}
	}
	return nil
}
