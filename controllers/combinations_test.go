package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/emulator"
)

// The axes of the combination matrix.
type (
	// addressing is how the object gives its field and value.
	addressing string
	// neighbour is what another object on the same case sets.
	neighbour string
	// control is what a user does to the object after creating it.
	control string
)

const (
	byID        addressing = "id"
	byNameLit   addressing = "name"
	fromSecretA addressing = "secret"
	fromCMA     addressing = "configmap"

	peerAlone      neighbour = "alone"
	peerOtherField neighbour = "other-field"
	peerSameValue  neighbour = "same-value"
	peerOtherValue neighbour = "other-value"

	noControl   control = "none"
	pauseResume control = "pause-resume"
	request     control = "request"
)

const (
	applyOnce = casesv1alpha1.SyncPolicyApplyOnce
	enforce   = casesv1alpha1.SyncPolicyEnforce
	applied   = casesv1alpha1.AppliedReason
	conflict  = casesv1alpha1.FieldConflictReason
)

// matrixCell is one combination and what it must end in: the object's Ready
// reason, the UpdateCase and GetCase calls the emulator answered for the
// case (the object's and its neighbour's), and the object's Events.
type matrixCell struct {
	addr    addressing
	policy  casesv1alpha1.SyncPolicy
	peer    neighbour
	ctl     control
	reason  string
	updates int
	gets    int
	events  string
}

// combinationMatrix lists the cells, one per line. The object sets the field
// Priority to "high"; a neighbour on the same case sets another field
// (Escalated, addressed the same way), or Priority to the same value or to
// "low", addressed the other way: by id against by name. Enforce objects are
// watched through one resync with nothing changed: one GetCase, no repair.
//
// Pruned, and why:
//   - pause-resume with the other-field and same-value neighbours: a pause
//     only holds the object's own calls, which peerAlone and other-value already
//     show; a neighbour that does not conflict is not affected by it;
//   - configmap with controls: a ConfigMap takes the same path as a Secret
//     (read from the API server, recorded as a reference), less the
//     redaction; the controls are covered with the Secret.
var combinationMatrix = []matrixCell{
	{byID, applyOnce, peerAlone, noControl, applied, 1, 0, "Normal/Applied"},
	{byID, applyOnce, peerAlone, pauseResume, applied, 1, 0, "Normal/Paused Normal/Applied"},
	{byID, applyOnce, peerAlone, request, applied, 2, 0, "Normal/Applied Normal/Applied"},
	{byID, applyOnce, peerOtherField, noControl, applied, 2, 0, "Normal/Applied"},
	{byID, applyOnce, peerOtherField, request, applied, 3, 0, "Normal/Applied Normal/Applied"},
	{byID, applyOnce, peerSameValue, noControl, applied, 2, 0, "Normal/Applied"},
	{byID, applyOnce, peerSameValue, request, applied, 3, 0, "Normal/Applied Normal/Applied"},
	{byID, applyOnce, peerOtherValue, noControl, conflict, 0, 0, "Warning/FieldConflict"},
	{byID, applyOnce, peerOtherValue, pauseResume, conflict, 0, 0, "Normal/Paused Warning/FieldConflict"},
	{byID, applyOnce, peerOtherValue, request, conflict, 0, 0, "Warning/FieldConflict"},
	{byID, enforce, peerAlone, noControl, applied, 1, 1, "Normal/Applied"},
	{byID, enforce, peerAlone, pauseResume, applied, 1, 1, "Normal/Paused Normal/Applied"},
	{byID, enforce, peerAlone, request, applied, 2, 1, "Normal/Applied Normal/Applied"},
	{byID, enforce, peerOtherField, noControl, applied, 2, 1, "Normal/Applied"},
	{byID, enforce, peerOtherField, request, applied, 3, 1, "Normal/Applied Normal/Applied"},
	{byID, enforce, peerSameValue, noControl, applied, 2, 1, "Normal/Applied"},
	{byID, enforce, peerSameValue, request, applied, 3, 1, "Normal/Applied Normal/Applied"},
	{byID, enforce, peerOtherValue, noControl, conflict, 0, 0, "Warning/FieldConflict"},
	{byID, enforce, peerOtherValue, pauseResume, conflict, 0, 0, "Normal/Paused Warning/FieldConflict"},
	{byID, enforce, peerOtherValue, request, conflict, 0, 0, "Warning/FieldConflict"},

	{byNameLit, applyOnce, peerAlone, noControl, applied, 1, 0, "Normal/Applied"},
	{byNameLit, applyOnce, peerAlone, pauseResume, applied, 1, 0, "Normal/Paused Normal/Applied"},
	{byNameLit, applyOnce, peerAlone, request, applied, 2, 0, "Normal/Applied Normal/Applied"},
	{byNameLit, applyOnce, peerOtherField, noControl, applied, 2, 0, "Normal/Applied"},
	{byNameLit, applyOnce, peerOtherField, request, applied, 3, 0, "Normal/Applied Normal/Applied"},
	{byNameLit, applyOnce, peerSameValue, noControl, applied, 2, 0, "Normal/Applied"},
	{byNameLit, applyOnce, peerSameValue, request, applied, 3, 0, "Normal/Applied Normal/Applied"},
	{byNameLit, applyOnce, peerOtherValue, noControl, conflict, 0, 0, "Warning/FieldConflict"},
	{byNameLit, applyOnce, peerOtherValue, pauseResume, conflict, 0, 0, "Normal/Paused Warning/FieldConflict"},
	{byNameLit, applyOnce, peerOtherValue, request, conflict, 0, 0, "Warning/FieldConflict"},
	{byNameLit, enforce, peerAlone, noControl, applied, 1, 1, "Normal/Applied"},
	{byNameLit, enforce, peerAlone, pauseResume, applied, 1, 1, "Normal/Paused Normal/Applied"},
	{byNameLit, enforce, peerAlone, request, applied, 2, 1, "Normal/Applied Normal/Applied"},
	{byNameLit, enforce, peerOtherField, noControl, applied, 2, 1, "Normal/Applied"},
	{byNameLit, enforce, peerOtherField, request, applied, 3, 1, "Normal/Applied Normal/Applied"},
	{byNameLit, enforce, peerSameValue, noControl, applied, 2, 1, "Normal/Applied"},
	{byNameLit, enforce, peerSameValue, request, applied, 3, 1, "Normal/Applied Normal/Applied"},
	{byNameLit, enforce, peerOtherValue, noControl, conflict, 0, 0, "Warning/FieldConflict"},
	{byNameLit, enforce, peerOtherValue, pauseResume, conflict, 0, 0, "Normal/Paused Warning/FieldConflict"},
	{byNameLit, enforce, peerOtherValue, request, conflict, 0, 0, "Warning/FieldConflict"},

	{fromSecretA, applyOnce, peerAlone, noControl, applied, 1, 0, "Normal/Applied"},
	{fromSecretA, applyOnce, peerAlone, pauseResume, applied, 1, 0, "Normal/Paused Normal/Applied"},
	{fromSecretA, applyOnce, peerAlone, request, applied, 2, 0, "Normal/Applied Normal/Applied"},
	{fromSecretA, applyOnce, peerOtherField, noControl, applied, 2, 0, "Normal/Applied"},
	{fromSecretA, applyOnce, peerOtherField, request, applied, 3, 0, "Normal/Applied Normal/Applied"},
	{fromSecretA, applyOnce, peerSameValue, noControl, applied, 2, 0, "Normal/Applied"},
	{fromSecretA, applyOnce, peerSameValue, request, applied, 3, 0, "Normal/Applied Normal/Applied"},
	{fromSecretA, applyOnce, peerOtherValue, noControl, conflict, 0, 0, "Warning/FieldConflict"},
	{fromSecretA, applyOnce, peerOtherValue, pauseResume, conflict, 0, 0, "Normal/Paused Warning/FieldConflict"},
	{fromSecretA, applyOnce, peerOtherValue, request, conflict, 0, 0, "Warning/FieldConflict"},
	{fromSecretA, enforce, peerAlone, noControl, applied, 1, 1, "Normal/Applied"},
	{fromSecretA, enforce, peerAlone, pauseResume, applied, 1, 1, "Normal/Paused Normal/Applied"},
	{fromSecretA, enforce, peerAlone, request, applied, 2, 1, "Normal/Applied Normal/Applied"},
	{fromSecretA, enforce, peerOtherField, noControl, applied, 2, 1, "Normal/Applied"},
	{fromSecretA, enforce, peerOtherField, request, applied, 3, 1, "Normal/Applied Normal/Applied"},
	{fromSecretA, enforce, peerSameValue, noControl, applied, 2, 1, "Normal/Applied"},
	{fromSecretA, enforce, peerSameValue, request, applied, 3, 1, "Normal/Applied Normal/Applied"},
	{fromSecretA, enforce, peerOtherValue, noControl, conflict, 0, 0, "Warning/FieldConflict"},
	{fromSecretA, enforce, peerOtherValue, pauseResume, conflict, 0, 0, "Normal/Paused Warning/FieldConflict"},
	{fromSecretA, enforce, peerOtherValue, request, conflict, 0, 0, "Warning/FieldConflict"},

	{fromCMA, applyOnce, peerAlone, noControl, applied, 1, 0, "Normal/Applied"},
	{fromCMA, applyOnce, peerOtherField, noControl, applied, 2, 0, "Normal/Applied"},
	{fromCMA, applyOnce, peerSameValue, noControl, applied, 2, 0, "Normal/Applied"},
	{fromCMA, applyOnce, peerOtherValue, noControl, conflict, 0, 0, "Warning/FieldConflict"},
	{fromCMA, enforce, peerAlone, noControl, applied, 1, 1, "Normal/Applied"},
	{fromCMA, enforce, peerOtherField, noControl, applied, 2, 1, "Normal/Applied"},
	{fromCMA, enforce, peerSameValue, noControl, applied, 2, 1, "Normal/Applied"},
	{fromCMA, enforce, peerOtherValue, noControl, conflict, 0, 0, "Warning/FieldConflict"},
}

// The values the matrix's Secret and ConfigMap hold.
var matrixData = map[string]string{"priority": "high", "escalated": "true"}

// matrixRun is one cell's objects and case.
type matrixRun struct {
	cell   matrixCell
	name   string
	caseID string
	obj    *casesv1alpha1.CaseFieldUpdate
	peer   *casesv1alpha1.CaseFieldUpdate
	token  string
}

// matrixField returns the spec item of a field addressed as addr.
func matrixField(addr addressing, id, name string, literal casesv1alpha1.FieldValue) casesv1alpha1.CaseField {
	switch addr {
	case byID:
		return casesv1alpha1.CaseField{ID: id, Value: literal}
	case byNameLit:
		return casesv1alpha1.CaseField{Name: name, Value: literal}
	case fromSecretA:
		return casesv1alpha1.CaseField{Name: name, Value: casesv1alpha1.FieldValue{ValueFrom: &casesv1alpha1.ValueSource{
			SecretKeyRef: &casesv1alpha1.KeyReference{Name: "matrix", Key: id}}}}
	default:
		return casesv1alpha1.CaseField{Name: name, Value: casesv1alpha1.FieldValue{ValueFrom: &casesv1alpha1.ValueSource{
			ConfigMapKeyRef: &casesv1alpha1.KeyReference{Name: "matrix", Key: id}}}}
	}
}

// opposite is how a neighbour on the same field addresses it: by name
// against an object by id, by id against every other object.
func opposite(addr addressing) addressing {
	if addr == byID {
		return byNameLit
	}
	return byID
}

func TestCombinationMatrix(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	// Quotas well above the matrix's load: the call counts are the
	// operator's decisions, not the emulator's throttling.
	h := newHarness(t, harnessOptions{quotas: map[string]emulator.Quota{"GetCase": {RPS: 1000, Burst: 1000}, "CreateCase": {RPS: 1000, Burst: 1000}}})
	h.startManager(func(r *CaseFieldUpdateReconciler) {
		h.withCatalog(r)
		r.EnableValueFrom = true
	})
	ctx := context.Background()
	for _, kind := range []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "matrix", Namespace: h.namespace}, StringData: matrixData},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "matrix", Namespace: h.namespace}, Data: matrixData},
	} {
		g.Expect(k8sClient.Create(ctx, kind)).To(Succeed())
	}

	runs := make([]*matrixRun, 0, len(combinationMatrix))
	for i, c := range combinationMatrix {
		run := &matrixRun{cell: c, name: fmt.Sprintf("m%02d", i), caseID: h.newMatrixCase(g, "domain-1")}
		run.obj = h.newObject(run.name, run.caseID, matrixField(c.addr, "priority", "Priority", str("high")))
		run.obj.Spec.SyncPolicy = c.policy
		run.obj.Spec.ResyncInterval = &metav1.Duration{Duration: 30 * time.Second}
		if c.ctl == pauseResume {
			run.obj.Annotations = map[string]string{casesv1alpha1.PausedAnnotation: "true"}
		}
		switch c.peer {
		case peerOtherField:
			run.peer = h.newObject(run.name+"-peer", run.caseID, matrixField(c.addr, "escalated", "Escalated", boolean(true)))
		case peerSameValue:
			run.peer = h.newObject(run.name+"-peer", run.caseID, matrixField(opposite(c.addr), "priority", "Priority", str("high")))
		case peerOtherValue:
			// Created paused, so that it cannot be applied before the object
			// sees it: the conflict is then found before any call, on both
			// sides, whatever the order of the reconciles.
			run.peer = h.newObject(run.name+"-peer", run.caseID, matrixField(opposite(c.addr), "priority", "Priority", str("low")))
			run.peer.Annotations = map[string]string{casesv1alpha1.PausedAnnotation: "true"}
		}
		runs = append(runs, run)
	}
	for _, run := range runs {
		if run.peer != nil {
			g.Expect(k8sClient.Create(ctx, run.peer)).To(Succeed())
		}
	}
	for _, run := range runs {
		g.Expect(k8sClient.Create(ctx, run.obj)).To(Succeed())
	}

	settleMatrix(g, h, runs)

	for _, run := range runs {
		t.Run(run.describe(), func(t *testing.T) {
			g := NewWithT(t)
			cur := checkMatrixCell(g, h, run)
			values, _ := h.emu.CaseFields("domain-1", run.caseID)
			ready := condition(cur, casesv1alpha1.ReadyCondition)
			if run.cell.reason == applied {
				g.Expect(ready.Status).To(Equal(metav1.ConditionTrue))
				g.Expect(condition(cur, casesv1alpha1.StalledCondition)).To(BeNil())
				g.Expect(condition(cur, casesv1alpha1.ReconcilingCondition)).To(BeNil())
				g.Expect(values).To(HaveKey("priority"))
				g.Expect(*values["priority"].StringValue).To(Equal("high"))
				g.Expect(cur.Status.Fields).To(Equal([]casesv1alpha1.ResolvedField{{ID: "priority", Name: "Priority", Type: "SingleSelect"}}))
				if run.cell.peer == peerOtherField {
					g.Expect(*values["escalated"].BooleanValue).To(BeTrue())
				}
			} else {
				g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
				g.Expect(condition(cur, casesv1alpha1.StalledCondition).Reason).To(Equal(conflict))
				g.Expect(ready.Message).To(ContainSubstring("field Priority (priority) is set to another value by CaseFieldUpdate " + h.namespace + "/" + run.name + "-peer"))
				g.Expect(values).NotTo(HaveKey("priority"), "neither side was applied")
			}
			if run.cell.addr == fromSecretA || run.cell.addr == fromCMA {
				g.Expect(cur.Status.References).To(HaveLen(1))
			}
		})
	}
}

// newMatrixCase creates a case of template-1 in domain for one cell, its
// summary "matrix", and returns its id.
func (h *harness) newMatrixCase(g Gomega, domain string) string {
	out, err := h.cases.CreateCase(context.Background(), &connectcases.CreateCaseInput{DomainId: aws.String(domain), TemplateId: aws.String("template-1"),
		Fields: []types.FieldValue{{Id: aws.String("summary"), Value: &types.FieldValueUnionMemberStringValue{Value: "matrix"}}}})
	g.Expect(err).NotTo(HaveOccurred())
	return aws.ToString(out.CaseId)
}

// settleMatrix takes the created runs of a matrix to their end: the first
// state (paused, or the cell's outcome), the controls, then the conflicting
// neighbours resumed and settled, and every Enforce object through its
// resync.
func settleMatrix(g Gomega, h *harness, runs []*matrixRun) {
	// First state: paused, or the outcome of the first reconcile.
	const long = 3 * time.Minute
	for _, run := range runs {
		first := run.cell.reason
		if run.cell.ctl == pauseResume {
			first = casesv1alpha1.PausedReason
		}
		g.Eventually(h.readyReasonOf(run.obj), long, interval).Should(Equal(first), run.describe())
	}
	// The controls, then the conflicting neighbours resume.
	for _, run := range runs {
		switch run.cell.ctl {
		case pauseResume:
			h.annotate(run.obj, casesv1alpha1.PausedAnnotation, "")
		case request:
			run.token = "token-" + run.name
			h.annotate(run.obj, casesv1alpha1.ReconcileRequestedAtAnnotation, run.token)
		}
	}
	for _, run := range runs {
		g.Eventually(func(g Gomega) {
			cur := h.get(run.obj)
			g.Expect(cur.Status.ObservedGeneration).To(Equal(cur.Generation))
			g.Expect(readyReason(cur)).To(Equal(run.cell.reason))
			g.Expect(cur.Status.LastHandledReconcileAt).To(Equal(run.token))
		}, long, interval).Should(Succeed(), run.describe())
		if run.cell.peer == peerOtherValue {
			h.annotate(run.peer, casesv1alpha1.PausedAnnotation, "")
		}
	}
	// Peers settle; Enforce objects go through one resync.
	for _, run := range runs {
		if run.peer != nil {
			g.Eventually(h.readyReasonOf(run.peer), long, interval).Should(Equal(run.cell.reason), run.describe()+" (neighbour)")
		}
		if run.cell.gets > 0 {
			g.Eventually(func() int { return h.casesCalls("GetCase", run.caseID) }, long, interval).Should(BeNumerically(">=", run.cell.gets), run.describe())
		}
	}
}

// checkMatrixCell checks what every cell ends in, with or without a
// connection: the UpdateCase and GetCase calls on its case, its Events and
// its acknowledged reconcile request. It returns the object as it ended.
func checkMatrixCell(g Gomega, h *harness, run *matrixRun) *casesv1alpha1.CaseFieldUpdate {
	cur := h.get(run.obj)
	g.Expect(h.casesCalls("UpdateCase", run.caseID)).To(Equal(run.cell.updates), "UpdateCase calls")
	g.Expect(h.casesCalls("GetCase", run.caseID)).To(Equal(run.cell.gets), "GetCase calls")
	g.Eventually(h.eventReasons(run.obj), timeout, interval).Should(Equal(strings.Fields(run.cell.events)), "Events")
	g.Expect(cur.Status.LastHandledReconcileAt).To(Equal(run.token))
	return cur
}

// describe names a cell in failure messages and subtests.
func (run *matrixRun) describe() string {
	c := run.cell
	return fmt.Sprintf("%s/%s/%s/%s/%s", run.name, c.addr, c.policy, c.peer, c.ctl)
}

// annotate sets (or, with an empty value, removes) an annotation of obj.
func (h *harness) annotate(obj *casesv1alpha1.CaseFieldUpdate, key, value string) {
	h.t.Helper()
	g := NewWithT(h.t)
	g.Eventually(func() error {
		cur := h.get(obj)
		if cur.Annotations == nil {
			cur.Annotations = map[string]string{}
		}
		if value == "" {
			delete(cur.Annotations, key)
		} else {
			cur.Annotations[key] = value
		}
		return k8sClient.Update(context.Background(), cur)
	}, timeout, interval).Should(Succeed())
}

// casesCalls returns how many calls of an operation the emulator answered
// for case caseID of domain-1, any outcome.
func (h *harness) casesCalls(operation, caseID string) int {
	n := 0
	for _, c := range h.emu.Calls().Recent {
		if c.Operation == operation && strings.HasSuffix(c.Path, "/cases/"+caseID) {
			n++
		}
	}
	return n
}
