package packaging

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/emulator"
)

// exampleChart packages CaseFieldUpdates with Helm.
const exampleChart = "examples/helm-case-updates"

// caseUpdate is one entry of the example chart's updates.
type caseUpdate struct {
	Name   string                    `json:"name"`
	CaseID string                    `json:"caseId"`
	Fields []casesv1alpha1.CaseField `json:"fields"`
}

// exampleValues writes values of the example chart for the world's domain,
// labelled for the world's manager when watched, and returns the file.
func (w *world) exampleValues(watched bool, updates ...caseUpdate) string {
	w.t.Helper()
	label := w.id
	if !watched {
		label = w.id + "-idle"
	}
	data, err := yaml.Marshal(map[string]interface{}{
		"domainId":    "domain-1",
		"performedBy": map[string]interface{}{},
		"labels":      map[string]string{testLabel: label},
		"updates":     updates,
	})
	NewWithT(w.t).Expect(err).NotTo(HaveOccurred())
	path := filepath.Join(w.t.TempDir(), "values.yaml")
	NewWithT(w.t).Expect(os.WriteFile(path, data, 0o600)).To(Succeed())
	return path
}

// readyOf returns the stored object's Ready reason and whether its status
// describes its current generation.
func readyOf(g Gomega, namespace, name string) (reason string, current bool, obj *casesv1alpha1.CaseFieldUpdate) {
	obj = &casesv1alpha1.CaseFieldUpdate{}
	g.Expect(k8sClient.Get(context.Background(), client.ObjectKey{Namespace: namespace, Name: name}, obj)).To(Succeed())
	if c := meta.FindStatusCondition(obj.Status.Conditions, casesv1alpha1.ReadyCondition); c != nil {
		reason = c.Reason
	}
	return reason, obj.Status.ObservedGeneration == obj.Generation, obj
}

// TestHelm4WaitsForCaseUpdates installs the example chart with Helm 4's
// --wait, which watches every object with kstatus, while the manager runs
// against the emulator: install returns once every CaseFieldUpdate is
// Applied (the first calls are throttled, so the objects are Reconciling
// first), an upgrade once the new generation is, and an install with
// Stalled objects fails, naming each and its reason, once the others are
// Applied.
func TestHelm4WaitsForCaseUpdates(t *testing.T) {
	g := NewWithT(t)
	w := newWorld(t)
	w.startManager(managerOptions{})

	values := w.exampleValues(true,
		caseUpdate{Name: "priority-case-1", CaseID: "case-1", Fields: []casesv1alpha1.CaseField{field("priority", "high")}},
		caseUpdate{Name: "summary-case-2", CaseID: "case-2", Fields: []casesv1alpha1.CaseField{field("summary", "Packaged with Helm")}})
	// Enough throttles for the SDK's attempts of the first call to fail:
	// the first object is Throttled, then applied after a backoff.
	w.emu.SetFaults([]emulator.Fault{{Operation: "UpdateCase", Kind: "ThrottlingException", Count: 4}})
	mustHelm(t, helm4(t), "install", "updates", exampleChart, "-n", w.namespace, "-f", values, "--wait", "--timeout", "2m")
	for _, name := range []string{"priority-case-1", "summary-case-2"} {
		reason, current, _ := readyOf(g, w.namespace, name)
		g.Expect(current).To(BeTrue(), "%s: helm returned before its generation was observed", name)
		g.Expect(reason).To(Equal(casesv1alpha1.AppliedReason), name)
	}

	values = w.exampleValues(true,
		caseUpdate{Name: "priority-case-1", CaseID: "case-1", Fields: []casesv1alpha1.CaseField{field("priority", "low")}},
		caseUpdate{Name: "summary-case-2", CaseID: "case-2", Fields: []casesv1alpha1.CaseField{field("summary", "Packaged with Helm")}})
	mustHelm(t, helm4(t), "upgrade", "updates", exampleChart, "-n", w.namespace, "-f", values, "--wait", "--timeout", "2m")
	reason, current, obj := readyOf(g, w.namespace, "priority-case-1")
	g.Expect(obj.Generation).To(BeEquivalentTo(2))
	g.Expect(current).To(BeTrue(), "helm returned before generation 2 was observed")
	g.Expect(reason).To(Equal(casesv1alpha1.AppliedReason))
	fields, _ := w.emu.CaseFields("domain-1", "case-1")
	g.Expect(fields["priority"].StringValue).To(HaveValue(Equal("low")))
	g.Expect(w.emu.Calls().Counts["UpdateCase"]).To(HaveKeyWithValue("ThrottlingException", 4), "the objects were throttled first")

	values = w.exampleValues(true,
		caseUpdate{Name: "summary-case-3", CaseID: "case-3", Fields: []casesv1alpha1.CaseField{field("summary", "Fine")}},
		caseUpdate{Name: "missing-case", CaseID: "case-missing", Fields: []casesv1alpha1.CaseField{field("summary", "Nobody")}},
		caseUpdate{Name: "invalid-option", CaseID: "case-4", Fields: []casesv1alpha1.CaseField{field("priority", "urgent")}})
	out, err := helmRun(t, helm4(t), "install", "stalled", exampleChart, "-n", w.namespace, "-f", values, "--wait", "--timeout", "2m")
	g.Expect(err).To(HaveOccurred(), "helm install --wait succeeded with Stalled objects:\n%s", out)
	for name, wantReason := range map[string]string{
		"missing-case":   casesv1alpha1.ResourceNotFoundReason,
		"invalid-option": casesv1alpha1.ValidationErrorReason,
	} {
		reason, current, obj := readyOf(g, w.namespace, name)
		g.Expect(current).To(BeTrue())
		g.Expect(reason).To(Equal(wantReason), name)
		stalled := meta.FindStatusCondition(obj.Status.Conditions, casesv1alpha1.StalledCondition)
		g.Expect(stalled).NotTo(BeNil())
		g.Expect(out).To(ContainSubstring("resource CaseFieldUpdate/%s/%s not ready. status: Failed, message: %s", w.namespace, name, stalled.Message))
	}
	g.Expect(out).NotTo(ContainSubstring("summary-case-3"), "the Applied object is not reported")
	reason, current, _ = readyOf(g, w.namespace, "summary-case-3")
	g.Expect(current).To(BeTrue(), "helm returned before the other objects were Applied")
	g.Expect(reason).To(Equal(casesv1alpha1.AppliedReason))
	g.Expect(releaseStatus(t, helm4(t), "stalled", w.namespace).Info.Status).To(Equal("failed"))
}

// TestHelmWaitForUnreconciledCaseUpdates installs the example chart where
// no manager reconciles its objects: Helm 3's --wait returns at once
// (it does not wait for custom resources), Helm 4's times out naming the
// objects in progress.
func TestHelmWaitForUnreconciledCaseUpdates(t *testing.T) {
	g := NewWithT(t)
	w := newWorld(t)
	values := w.exampleValues(false,
		caseUpdate{Name: "unreconciled", CaseID: "case-1", Fields: []casesv1alpha1.CaseField{field("priority", "high")}})

	mustHelm(t, helm(t), "install", "helm3", exampleChart, "-n", w.namespace, "-f", values, "--wait", "--timeout", "2m")
	reason, current, _ := readyOf(g, w.namespace, "unreconciled")
	g.Expect(current).To(BeFalse(), "no manager has observed the object")
	g.Expect(reason).To(BeEmpty())
	mustHelm(t, helm(t), "uninstall", "helm3", "-n", w.namespace)
	g.Eventually(func() error {
		return k8sClient.Get(context.Background(), client.ObjectKey{Namespace: w.namespace, Name: "unreconciled"}, &casesv1alpha1.CaseFieldUpdate{})
	}, timeout, interval).Should(MatchError(ContainSubstring("not found")))

	out, err := helmRun(t, helm4(t), "install", "helm4", exampleChart, "-n", w.namespace, "-f", values, "--wait", "--timeout", "3s")
	g.Expect(err).To(HaveOccurred(), "helm 4 returned without the object being reconciled:\n%s", out)
	g.Expect(out).To(ContainSubstring("resource CaseFieldUpdate/%s/unreconciled not ready. status: InProgress", w.namespace))
}
