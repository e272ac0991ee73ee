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

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/emulator"
)

// connectionMatrix is the combination matrix through a CasesConnection: the
// field by id, by name and from a Secret, ApplyOnce and Enforce, alone and
// against a neighbour that sets it to another value through the same
// connection, with no control and with a reconcile request. The object sets
// Summary to "high"; the neighbour addresses it the other way (by name
// against by id). Pauses, the other neighbours and ConfigMaps take paths
// that the connection does not change, and are left to the matrix without
// one.
var connectionMatrix = []matrixCell{
	{byID, applyOnce, peerAlone, noControl, applied, 1, 0, "Normal/Applied"},
	{byID, applyOnce, peerAlone, request, applied, 2, 0, "Normal/Applied Normal/Applied"},
	{byID, applyOnce, peerOtherValue, noControl, conflict, 0, 0, "Warning/FieldConflict"},
	{byID, applyOnce, peerOtherValue, request, conflict, 0, 0, "Warning/FieldConflict"},
	{byID, enforce, peerAlone, noControl, applied, 1, 1, "Normal/Applied"},
	{byID, enforce, peerAlone, request, applied, 2, 1, "Normal/Applied Normal/Applied"},
	{byID, enforce, peerOtherValue, noControl, conflict, 0, 0, "Warning/FieldConflict"},

	{byNameLit, applyOnce, peerAlone, noControl, applied, 1, 0, "Normal/Applied"},
	{byNameLit, applyOnce, peerAlone, request, applied, 2, 0, "Normal/Applied Normal/Applied"},
	{byNameLit, applyOnce, peerOtherValue, noControl, conflict, 0, 0, "Warning/FieldConflict"},
	{byNameLit, enforce, peerAlone, noControl, applied, 1, 1, "Normal/Applied"},
	{byNameLit, enforce, peerAlone, request, applied, 2, 1, "Normal/Applied Normal/Applied"},
	{byNameLit, enforce, peerOtherValue, noControl, conflict, 0, 0, "Warning/FieldConflict"},

	{fromSecretA, applyOnce, peerAlone, noControl, applied, 1, 0, "Normal/Applied"},
	{fromSecretA, applyOnce, peerAlone, request, applied, 2, 0, "Normal/Applied Normal/Applied"},
	{fromSecretA, applyOnce, peerOtherValue, noControl, conflict, 0, 0, "Warning/FieldConflict"},
	{fromSecretA, enforce, peerAlone, noControl, applied, 1, 1, "Normal/Applied"},
	{fromSecretA, enforce, peerAlone, request, applied, 2, 1, "Normal/Applied Normal/Applied"},
	{fromSecretA, enforce, peerOtherValue, noControl, conflict, 0, 0, "Warning/FieldConflict"},
	{fromSecretA, enforce, peerOtherValue, request, conflict, 0, 0, "Warning/FieldConflict"},
}

// TestCombinationsThroughAConnection runs connectionMatrix with every object
// naming a connection that assumes a role in another account: each cell
// ends as it does without a connection, and every Connect Cases call is
// signed with the role's credentials.
func TestCombinationsThroughAConnection(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	w := newConnWorld(t)
	conn := w.connection("matrix", casesv1alpha1.CasesConnectionSpec{
		AssumeRole: &casesv1alpha1.AssumeRoleSpec{RoleARN: roleA}, NamespaceSelector: w.selectTeam("a"), Domains: []string{"domain-a"},
	}, nil)
	w.start(0, func(r *CaseFieldUpdateReconciler) { r.EnableValueFrom = true })
	g.Eventually(connectionReady(conn), connTimeout, connInterval).Should(Equal("True/Connected"))
	ctx := context.Background()
	w.namespace = w.nsA
	g.Expect(k8sClient.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "matrix", Namespace: w.nsA},
		StringData: map[string]string{"summary": "high"}})).To(Succeed())

	object := func(name, caseID string, addr addressing, value string) *casesv1alpha1.CaseFieldUpdate {
		obj := w.newObject(name, caseID, matrixField(addr, "summary", "Summary", str(value)))
		obj.Spec.DomainID = "domain-a"
		obj.Spec.ConnectionRef = &casesv1alpha1.ConnectionReference{Name: conn.Name}
		return obj
	}
	runs := make([]*matrixRun, 0, len(connectionMatrix))
	for i, c := range connectionMatrix {
		out, err := w.cases.CreateCase(ctx, &connectcases.CreateCaseInput{DomainId: aws.String("domain-a"), TemplateId: aws.String("template-1"),
			Fields: []types.FieldValue{{Id: aws.String("summary"), Value: &types.FieldValueUnionMemberStringValue{Value: "seeded"}}}})
		g.Expect(err).NotTo(HaveOccurred())
		run := &matrixRun{cell: c, name: fmt.Sprintf("c%02d", i), caseID: aws.ToString(out.CaseId)}
		run.obj = object(run.name, run.caseID, c.addr, "high")
		run.obj.Spec.SyncPolicy = c.policy
		run.obj.Spec.ResyncInterval = &metav1.Duration{Duration: 30 * time.Second}
		if c.peer == peerOtherValue {
			// Created paused, as in the matrix without a connection: the
			// conflict is found before any call, on both sides.
			run.peer = object(run.name+"-peer", run.caseID, opposite(c.addr), "low")
			run.peer.Annotations = map[string]string{casesv1alpha1.PausedAnnotation: "true"}
			g.Expect(k8sClient.Create(ctx, run.peer)).To(Succeed())
		}
		runs = append(runs, run)
	}
	for _, run := range runs {
		g.Expect(k8sClient.Create(ctx, run.obj)).To(Succeed())
	}

	const long = 3 * time.Minute
	for _, run := range runs {
		g.Eventually(w.readyReasonOf(run.obj), long, interval).Should(Equal(run.cell.reason), run.describe())
	}
	for _, run := range runs {
		if run.cell.ctl == request {
			run.token = "token-" + run.name
			w.annotate(run.obj, casesv1alpha1.ReconcileRequestedAtAnnotation, run.token)
		}
	}
	for _, run := range runs {
		g.Eventually(func(g Gomega) {
			cur := w.get(run.obj)
			g.Expect(cur.Status.ObservedGeneration).To(Equal(cur.Generation))
			g.Expect(readyReason(cur)).To(Equal(run.cell.reason))
			g.Expect(cur.Status.LastHandledReconcileAt).To(Equal(run.token))
		}, long, interval).Should(Succeed(), run.describe())
		if run.peer != nil {
			w.annotate(run.peer, casesv1alpha1.PausedAnnotation, "")
		}
	}
	for _, run := range runs {
		if run.peer != nil {
			g.Eventually(w.readyReasonOf(run.peer), long, interval).Should(Equal(run.cell.reason), run.describe()+" (neighbour)")
		}
		if run.cell.gets > 0 {
			g.Eventually(func() int { return w.casesCalls("GetCase", run.caseID) }, long, interval).Should(BeNumerically(">=", run.cell.gets), run.describe())
		}
	}

	for _, run := range runs {
		t.Run(run.describe(), func(t *testing.T) {
			g := NewWithT(t)
			cur := w.get(run.obj)
			g.Expect(w.casesCalls("UpdateCase", run.caseID)).To(Equal(run.cell.updates), "UpdateCase calls")
			g.Expect(w.casesCalls("GetCase", run.caseID)).To(Equal(run.cell.gets), "GetCase calls")
			g.Eventually(w.eventReasons(run.obj), timeout, interval).Should(Equal(strings.Fields(run.cell.events)), "Events")
			g.Expect(cur.Status.LastHandledReconcileAt).To(Equal(run.token))
			for _, op := range []string{"UpdateCase", "GetCase"} {
				for _, c := range w.calls(op, "domain-a", run.caseID) {
					g.Expect(c.AccessKeyID).To(HavePrefix("ASIA"), "%s is signed with the assumed role's credentials", op)
					g.Expect(c.Outcome).To(Equal(emulator.OutcomeOK))
				}
			}
			values, _ := w.emu.CaseFields("domain-a", run.caseID)
			if run.cell.reason == applied {
				g.Expect(*values["summary"].StringValue).To(Equal("high"))
				g.Expect(cur.Status.Fields).To(Equal([]casesv1alpha1.ResolvedField{{ID: "summary", Name: "Summary", Type: "Text"}}))
			} else {
				g.Expect(*values["summary"].StringValue).To(Equal("seeded"), "neither side was applied")
				g.Expect(readyMessage(cur)).To(ContainSubstring("field Summary (summary) is set to another value by CaseFieldUpdate " +
					w.nsA + "/" + run.name + "-peer"))
			}
			if run.cell.addr == fromSecretA {
				g.Expect(cur.Status.References).To(HaveLen(1))
			}
		})
	}
}
