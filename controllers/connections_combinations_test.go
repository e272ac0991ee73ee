package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

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
		run := &matrixRun{cell: c, name: fmt.Sprintf("c%02d", i), caseID: w.newMatrixCase(g, "domain-a")}
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

	settleMatrix(g, w.harness, runs)

	for _, run := range runs {
		t.Run(run.describe(), func(t *testing.T) {
			g := NewWithT(t)
			cur := checkMatrixCell(g, w.harness, run)
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
				g.Expect(*values["summary"].StringValue).To(Equal("matrix"), "neither side was applied")
				g.Expect(readyMessage(cur)).To(ContainSubstring("field Summary (summary) is set to another value by CaseFieldUpdate " +
					w.nsA + "/" + run.name + "-peer"))
			}
			if run.cell.addr == fromSecretA {
				g.Expect(cur.Status.References).To(HaveLen(1))
			}
		})
	}
}
