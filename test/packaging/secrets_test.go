package packaging

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	. "github.com/onsi/gomega"
	"go.uber.org/zap/zapcore"
	eventsv1 "k8s.io/api/events/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/cases"
	"github.com/connectcases-operator/connectcases-operator/internal/emulator"
	"github.com/connectcases-operator/connectcases-operator/internal/testenv"
)

// syncBuffer collects the manager's logs.
type syncBuffer = testenv.SyncBuffer

// TestSecretKeyIsNeverLogged reconciles with static credentials, JSON logs
// at the highest verbosity and the SDK's request, response (bodies
// included), signing and retry logs on, through a success, a throttle and
// a validation error; the secret access key appears in no log line, Event
// or status, and every line about an AWS request attempt has its
// requestId.
func TestSecretKeyIsNeverLogged(t *testing.T) {
	g := NewWithT(t)
	w := newWorld(t)
	ctx := context.Background()
	logs := &syncBuffer{}
	logger := zap.New(zap.UseDevMode(false), zap.Level(zapcore.Level(-10)), zap.WriteTo(logs), zap.JSONEncoder())

	w.startManager(managerOptions{
		cases: cases.Options{
			ClientLogMode: aws.LogRequestWithBody | aws.LogResponseWithBody | aws.LogSigning | aws.LogRetries,
			Logger:        logger,
		},
		setup:  func(manager.Manager) {},
		logger: &logger,
	})

	applied := w.newObject("applied", "case-1", true, field("priority", "high"))
	g.Expect(k8sClient.Create(ctx, applied)).To(Succeed())
	w.waitForReason(applied, casesv1alpha1.AppliedReason)
	w.emu.SetFaults([]emulator.Fault{{Operation: "UpdateCase", Kind: "ThrottlingException", Rate: 1}})
	throttled := w.newObject("throttled", "case-2", true, field("priority", "low"))
	g.Expect(k8sClient.Create(ctx, throttled)).To(Succeed())
	w.waitForReason(throttled, casesv1alpha1.ThrottledReason)
	w.emu.SetFaults(nil)
	invalid := w.newObject("invalid", "case-3", true, field("priority", "urgent"))
	g.Expect(k8sClient.Create(ctx, invalid)).To(Succeed())
	w.waitForReason(invalid, casesv1alpha1.ValidationErrorReason)

	out := logs.String()
	// The logs are as verbose as they get: the SDK's signing and the
	// request dumps are there.
	g.Expect(out).To(ContainSubstring("AWS4-HMAC-SHA256"))
	g.Expect(out).To(ContainSubstring("STRING TO SIGN"))
	g.Expect(out).To(ContainSubstring("HTTP/1.1 200 OK"))
	// The request dumps show the Authorization header, whose value (with
	// the access key id and the signature) is redacted.
	g.Expect(out).To(ContainSubstring("Authorization: [REDACTED]"))
	g.Expect(out).NotTo(ContainSubstring(testSecretKey))

	attempts := 0
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		entry := map[string]interface{}{}
		g.Expect(json.Unmarshal([]byte(line), &entry)).To(Succeed(), "every log line is JSON: %s", line)
		if entry["msg"] == "AWS request attempt" {
			attempts++
			g.Expect(entry["requestId"]).NotTo(BeEmpty(), "an AWS request line without requestId: %s", line)
		}
	}
	g.Expect(attempts).To(BeNumerically(">=", 5), "one line per attempt: 1 applied, 3+ throttled, 1 invalid")

	g.Eventually(func(g Gomega) {
		events := &eventsv1.EventList{}
		g.Expect(k8sClient.List(ctx, events, client.InNamespace(w.namespace))).To(Succeed())
		g.Expect(events.Items).To(HaveLen(3))
		data, err := json.Marshal(events)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(string(data)).NotTo(ContainSubstring(testSecretKey))
	}, timeout, interval).Should(Succeed())

	objects := &casesv1alpha1.CaseFieldUpdateList{}
	g.Expect(k8sClient.List(ctx, objects, client.InNamespace(w.namespace))).To(Succeed())
	g.Expect(objects.Items).To(HaveLen(3))
	data, err := json.Marshal(objects)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(data)).NotTo(ContainSubstring(testSecretKey))
}
