// Package e2e tests the operator as a black box: the built manager binary,
// run as a process against a local kube-apiserver and the emulator binary,
// driven with kubectl.
package e2e

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/localenv"
	"github.com/connectcases-operator/connectcases-operator/internal/testenv"
)

func TestSamplesEndToEnd(t *testing.T) {
	g := NewWithT(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	root, d := startSamplesDemo(ctx, t)

	out, err := d.ApplySamples(ctx, root)
	g.Expect(err).NotTo(HaveOccurred(), out)

	// kubectl waits for Ready on every sample that applies.
	for name, reason := range localenv.SampleOutcomes {
		if reason != casesv1alpha1.AppliedReason {
			continue
		}
		out, err := d.ControlPlane.RunKubectl(ctx, "wait", "-n", "default", "--for=condition=Ready", "--timeout=180s", "casefieldupdate/"+name)
		g.Expect(err).NotTo(HaveOccurred(), out)
	}
	// The others reach their failure reasons.
	waitCtx, cancelWait := context.WithTimeout(ctx, 3*time.Minute)
	defer cancelWait()
	g.Expect(d.WaitForSamples(waitCtx)).To(Succeed())

	// kubectl reads the printer columns.
	out, err = d.ControlPlane.RunKubectl(ctx, "get", "cfu", "-n", "default", "-o", "wide", "escalate-case-0001")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out).To(MatchRegexp(`(?m)^NAME\s+READY\s+REASON\s+CASE\s+DOMAIN\s+MESSAGE\s+AGE`))
	g.Expect(out).To(MatchRegexp(`(?m)^escalate-case-0001\s+True\s+Applied\s+case-0001\s+demo-domain\s+Applied 4 fields`))

	// Stalled objects say so in kstatus terms.
	obj := &casesv1alpha1.CaseFieldUpdate{}
	g.Expect(d.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "invalid-priority"}, obj)).To(Succeed())
	g.Expect(obj.Status.Conditions).To(ContainElement(And(
		HaveField("Type", casesv1alpha1.StalledCondition), HaveField("Reason", casesv1alpha1.ValidationErrorReason),
		HaveField("Message", Equal(`Field Priority (priority): "urgent" is not an active option; allowed: high, low, medium`)))))

	// The case values in the emulator are the spec's.
	var state struct {
		Domains []struct {
			ID    string `json:"id"`
			Cases []struct {
				ID     string                    `json:"id"`
				Fields map[string]map[string]any `json:"fields"`
			} `json:"cases"`
		} `json:"domains"`
	}
	g.Expect(localenv.GetJSON(ctx, d.Emulator.URL+"/_emulator/state", &state)).To(Succeed())
	values := map[string]map[string]map[string]any{}
	for _, dom := range state.Domains {
		for _, c := range dom.Cases {
			values[dom.ID+"/"+c.ID] = c.Fields
		}
	}
	g.Expect(values["demo-domain/case-0001"]).To(HaveKeyWithValue("priority", HaveKeyWithValue("stringValue", "high")))
	g.Expect(values["demo-domain/case-0001"]).To(HaveKeyWithValue("score", HaveKeyWithValue("doubleValue", 4.5)))
	g.Expect(values["demo-domain/case-0001"]).To(HaveKeyWithValue("escalated", HaveKeyWithValue("booleanValue", true)))
	g.Expect(values["demo-domain/case-0003"]).NotTo(HaveKey("due"), "emptyValue clears the field")
	g.Expect(values["demo-domain/case-0002"]).To(HaveKeyWithValue("priority", HaveKeyWithValue("stringValue", "medium")), "the invalid update changed nothing")
	g.Expect(values["demo-domain/case-0001"]).To(HaveKeyWithValue("link", HaveKeyWithValue("stringValue", "https://tickets.example.com/T-1001")), "fields by name")
	g.Expect(values["demo-domain/case-0003"]).To(HaveKeyWithValue("summary", HaveKeyWithValue("stringValue", "Customer reference CR-2003-7781")), "a value from a Secret")
	g.Expect(values["demo-domain/case-0003"]).To(HaveKeyWithValue("score", HaveKeyWithValue("doubleValue", 3.0)), "a number from a ConfigMap")

	// The Secret's value is in no object's status or Event.
	out, err = d.ControlPlane.RunKubectl(ctx, "get", "cfu,events.events.k8s.io", "-n", "default", "-o", "yaml")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out).To(ContainSubstring("reference-case-0003"))
	g.Expect(out).NotTo(ContainSubstring("CR-2003-7781"))

	// The manager stops cleanly on SIGTERM.
	g.Expect(d.Manager.Stop(30 * time.Second)).To(Succeed())
}

// testWriter sends progress lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// startSamplesDemo starts the demo (control plane from KUBEBUILDER_ASSETS,
// emulator, manager) for the samples' tests, stopped at the test's end with
// the manager's log on failure. It returns the repository root too.
func startSamplesDemo(ctx context.Context, t *testing.T) (string, *localenv.Demo) {
	t.Helper()
	g := NewWithT(t)
	root, err := testenv.RepoRoot()
	g.Expect(err).NotTo(HaveOccurred())
	d, err := localenv.StartDemo(ctx, localenv.DemoOptions{Root: root, Dir: t.TempDir(), Progress: testWriter{t},
		ManagerArgs: []string{"--stalled-retry-interval=1m"}})
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("manager log:\n%s", d.Manager.Tail(60))
		}
		d.Stop()
	})
	return root, d
}
