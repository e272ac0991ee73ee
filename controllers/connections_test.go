package controllers

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/cases"
	"github.com/connectcases-operator/connectcases-operator/internal/connections"
	"github.com/connectcases-operator/connectcases-operator/internal/emulator"
)

// Accounts and roles of the connection tests: the operator's user lives in
// the base account; each team's role, in its own account, trusts it.
const (
	baseUserKey    = "AKIDOPERATORBASE"
	baseUserSecret = "operator-base-secret"
	roleA          = "arn:aws:iam::222222222222:role/team-a-writer"
	roleB          = "arn:aws:iam::333333333333:role/team-b-writer"
	roleA2         = "arn:aws:iam::222222222222:role/team-a-second"
	roleShort      = "arn:aws:iam::222222222222:role/short-lived"
	externalIDB    = "team-b-external-id"
)

// connectionSeed is the emulator's state in the connection tests: two team
// domains, and the accounts whose roles write them.
const connectionSeed = `
principals:
- {accessKeyId: AKIDTESTOPERATOR, secretAccessKey: test-secret-access-key, actions: ["*"], domains: ["*"]}
domains:
- id: domain-a
  name: Team A
  fields: [{id: summary, name: Summary, type: Text}]
  templates: [{id: template-1, name: Default}]
  cases: [{id: case-1, templateId: template-1}, {id: case-2, templateId: template-1}, {id: case-3, templateId: template-1}, {id: case-4, templateId: template-1}]
- id: domain-b
  name: Team B
  fields: [{id: summary, name: Summary, type: Text}]
  templates: [{id: template-1, name: Default}]
  cases: [{id: case-1, templateId: template-1}, {id: case-2, templateId: template-1}]
accounts:
- id: "111111111111"
  users: [{name: operator, accessKeyId: AKIDOPERATORBASE, secretAccessKey: operator-base-secret}]
- id: "222222222222"
  roles:
  - {name: team-a-writer, trust: [{principals: ["111111111111"]}], actions: ["cases:*"], domains: [domain-a]}
  - {name: team-a-second, trust: [{principals: ["111111111111"]}], actions: ["cases:*"], domains: [domain-a]}
  - {name: short-lived, trust: [{principals: ["111111111111"]}], actions: ["cases:*"], domains: [domain-a], sessionDuration: 2s}
- id: "333333333333"
  roles:
  - {name: team-b-writer, trust: [{principals: ["arn:aws:iam::111111111111:user/operator"], externalId: team-b-external-id}], actions: ["cases:*"], domains: [domain-b, domain-a]}
`

// connWorld is one connection test: an emulator with accounts, namespaces
// of two teams, and a manager running both controllers.
type connWorld struct {
	*harness
	// nsA and nsB are the teams' namespaces, labelled team=<label>.
	nsA, nsB string
	registry *connections.Registry
}

// newConnWorld starts the emulator and creates the teams' namespaces.
func newConnWorld(t *testing.T) *connWorld {
	t.Helper()
	g := NewWithT(t)
	seed, err := emulator.ParseSeed([]byte(connectionSeed))
	g.Expect(err).NotTo(HaveOccurred())
	emu, err := emulator.New(emulator.Options{Region: testRegion, Seed: seed,
		Quotas: map[string]emulator.Quota{"UpdateCase": {RPS: 1000, Burst: 1000}, "GetCase": {RPS: 1000, Burst: 1000},
			"CreateCase": {RPS: 1000, Burst: 1000}}, RandomSeed: 1})
	g.Expect(err).NotTo(HaveOccurred())
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	id := fmt.Sprintf("t%d", runCounter.Add(1))
	w := &connWorld{harness: &harness{t: t, runID: id, emu: emu, url: srv.URL}}
	w.cases = w.newCasesClient(testAccessKey, testSecretKey)
	w.nsA = w.namespaceFor("a")
	w.nsB = w.namespaceFor("b")
	return w
}

// namespaceFor creates a team's namespace, labelled team=<run>-<team>.
func (w *connWorld) namespaceFor(team string) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:   w.runID + "-team-" + team + "-" + sanitize(w.t.Name()),
		Labels: map[string]string{"team": w.teamLabel(team)},
	}}
	if len(ns.Name) > 63 {
		ns.Name = ns.Name[:63]
	}
	ns.Name = strings.TrimRight(ns.Name, "-")
	NewWithT(w.t).Expect(k8sClient.Create(context.Background(), ns)).To(Succeed())
	w.t.Cleanup(func() {
		_ = k8sClient.DeleteAllOf(context.Background(), &casesv1alpha1.CaseFieldUpdate{}, client.InNamespace(ns.Name))
	})
	return ns.Name
}

// teamLabel is the value of the team label of a team's namespace.
func (w *connWorld) teamLabel(team string) string { return w.runID + "-" + team }

// connection creates a CasesConnection to the emulator, deleted at the end
// of the test.
func (w *connWorld) connection(name string, spec casesv1alpha1.CasesConnectionSpec, annotations map[string]string) *casesv1alpha1.CasesConnection {
	w.t.Helper()
	spec.Region = testRegion
	spec.Endpoints = &casesv1alpha1.ConnectionEndpoints{ConnectCases: w.url, STS: w.url}
	c := &casesv1alpha1.CasesConnection{ObjectMeta: metav1.ObjectMeta{Name: w.runID + "-" + name, Annotations: annotations}, Spec: spec}
	NewWithT(w.t).Expect(k8sClient.Create(context.Background(), c)).To(Succeed())
	w.t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), c) })
	return c
}

// selectTeam is a namespaceSelector for one team's namespace.
func (w *connWorld) selectTeam(team string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{"team": w.teamLabel(team)}}
}

// start runs a manager with the CaseFieldUpdate and CasesConnection
// controllers, the operator's base identity being the seeded user.
func (w *connWorld) start(expiryWindow time.Duration, tune func(r *CaseFieldUpdateReconciler)) {
	w.t.Helper()
	g := NewWithT(w.t)
	base, err := cases.LoadConfig(context.Background(), cases.Options{Region: testRegion})
	g.Expect(err).NotTo(HaveOccurred())
	base.Credentials = cases.GuardCredentials(credentials.NewStaticCredentialsProvider(baseUserKey, baseUserSecret, ""))
	w.registry = connections.NewRegistry(connections.Options{Base: base, ExpiryWindow: expiryWindow,
		FieldChecks: true, CatalogTTL: time.Minute, MaxLimiterWait: DefaultMaxLimiterWait, CallTimeout: 30 * time.Second})
	w.startManagerWith(func(r *CaseFieldUpdateReconciler) {
		r.Connections = w.registry
		if tune != nil {
			tune(r)
		}
	}, func(mgr ctrl.Manager) {
		cr := &CasesConnectionReconciler{Client: mgr.GetClient(), Registry: w.registry, StalledRetryInterval: time.Minute, MaxBackoff: 2 * time.Second}
		g.Expect(cr.SetupWithManager(mgr)).To(Succeed())
	})
}

// object returns a CaseFieldUpdate in namespace ns for a case of a domain,
// through the named connection ("" for none).
func (w *connWorld) object(ns, name, conn, domain, caseID, summary string) *casesv1alpha1.CaseFieldUpdate {
	obj := &casesv1alpha1.CaseFieldUpdate{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{testLabel: w.runID}},
		Spec:       casesv1alpha1.CaseFieldUpdateSpec{DomainID: domain, CaseID: caseID, Fields: []casesv1alpha1.CaseField{stringField("summary", summary)}},
	}
	if conn != "" {
		obj.Spec.ConnectionRef = &casesv1alpha1.ConnectionReference{Name: w.runID + "-" + conn}
	}
	NewWithT(w.t).Expect(k8sClient.Create(context.Background(), obj)).To(Succeed())
	return obj
}

// calls returns the emulator's calls of an operation on a case of a domain
// ("" for any case), with the access key ids that signed them.
func (w *connWorld) calls(operation, domain, caseID string) []emulator.CallRecord {
	var out []emulator.CallRecord
	for _, c := range w.emu.Calls().Recent {
		if c.Operation != operation {
			continue
		}
		if domain != "" && c.DomainID != domain {
			continue
		}
		if caseID != "" && !strings.HasSuffix(c.Path, "/cases/"+caseID) {
			continue
		}
		out = append(out, c)
	}
	return out
}

// connectionReady returns a function for Eventually that reads the Ready
// condition of a connection at its generation.
func connectionReady(c *casesv1alpha1.CasesConnection) func(Gomega) string {
	return func(g Gomega) string {
		cur := &casesv1alpha1.CasesConnection{}
		g.Expect(k8sClient.Get(context.Background(), client.ObjectKeyFromObject(c), cur)).To(Succeed())
		cond := meta.FindStatusCondition(cur.Status.Conditions, casesv1alpha1.ReadyCondition)
		if cond == nil || cond.ObservedGeneration != cur.Generation {
			return ""
		}
		return string(cond.Status) + "/" + cond.Reason
	}
}

// Timeouts of the connection tests, generous for a loaded machine.
const (
	connTimeout  = 60 * time.Second
	connInterval = 100 * time.Millisecond
)

// TestConnectionsTwoTeams runs two teams, each with its own connection to
// its own account: each writes its domain through an assumed role, and team
// A cannot write domain B, neither through B's connection (its namespace is
// not selected) nor through its own (the domain is not listed), with no AWS
// call.
func TestConnectionsTwoTeams(t *testing.T) {
	g := NewWithT(t)
	w := newConnWorld(t)
	connA := w.connection("conn-a", casesv1alpha1.CasesConnectionSpec{
		AssumeRole: &casesv1alpha1.AssumeRoleSpec{RoleARN: roleA}, NamespaceSelector: w.selectTeam("a"), Domains: []string{"domain-a"},
	}, nil)
	connB := w.connection("conn-b", casesv1alpha1.CasesConnectionSpec{
		AssumeRole:        &casesv1alpha1.AssumeRoleSpec{RoleARN: roleB, ExternalID: externalIDB, DurationSeconds: ptr.To[int32](900)},
		NamespaceSelector: w.selectTeam("b"), Domains: []string{"domain-b"},
	}, nil)
	w.start(0, nil)

	g.Eventually(connectionReady(connA), connTimeout, connInterval).Should(Equal("True/Connected"))
	g.Eventually(connectionReady(connB), connTimeout, connInterval).Should(Equal("True/Connected"))
	cur := &casesv1alpha1.CasesConnection{}
	g.Expect(k8sClient.Get(context.Background(), client.ObjectKeyFromObject(connB), cur)).To(Succeed())
	g.Expect(cur.Status.IdentityARN).To(HavePrefix("arn:aws:sts::333333333333:assumed-role/team-b-writer/connectcases-operator-"))
	g.Expect(cur.Status.CredentialsExpireTime).NotTo(BeNil())
	g.Expect(cur.Status.CredentialsExpireTime.Time).To(BeTemporally("~", time.Now().Add(15*time.Minute), time.Minute))

	okA := w.object(w.nsA, "team-a", "conn-a", "domain-a", "case-1", "from team A")
	okB := w.object(w.nsB, "team-b", "conn-b", "domain-b", "case-1", "from team B")
	viaB := w.object(w.nsA, "a-via-b", "conn-b", "domain-b", "case-2", "team A through B")
	viaA := w.object(w.nsA, "a-to-b", "conn-a", "domain-b", "case-2", "team A to domain B")

	g.Eventually(w.readyReasonOf(okA), connTimeout, connInterval).Should(Equal(casesv1alpha1.AppliedReason))
	g.Eventually(w.readyReasonOf(okB), connTimeout, connInterval).Should(Equal(casesv1alpha1.AppliedReason))
	g.Eventually(w.readyReasonOf(viaB), connTimeout, connInterval).Should(Equal(casesv1alpha1.NotPermittedReason))
	g.Eventually(w.readyReasonOf(viaA), connTimeout, connInterval).Should(Equal(casesv1alpha1.NotPermittedReason))

	for _, obj := range []*casesv1alpha1.CaseFieldUpdate{viaB, viaA} {
		got := w.get(obj)
		stalled := meta.FindStatusCondition(got.Status.Conditions, casesv1alpha1.StalledCondition)
		g.Expect(stalled).NotTo(BeNil())
		g.Expect(stalled.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(stalled.Reason).To(Equal(casesv1alpha1.NotPermittedReason))
	}
	g.Expect(readyMessage(w.get(viaB))).To(ContainSubstring("does not serve namespace"))
	g.Expect(readyMessage(w.get(viaA))).To(ContainSubstring(`does not serve domain "domain-b"`))
	g.Expect(w.calls("UpdateCase", "domain-b", "case-2")).To(BeEmpty(), "a refused object makes no AWS call")

	for _, c := range append(w.calls("UpdateCase", "domain-a", "case-1"), w.calls("UpdateCase", "domain-b", "case-1")...) {
		g.Expect(c.AccessKeyID).To(HavePrefix("ASIA"), "calls are signed with the assumed role's credentials")
		g.Expect(c.Outcome).To(Equal(emulator.OutcomeOK))
	}
}

// TestConnectionWrongExternalID shows a role that cannot be assumed on the
// connection and on its objects, without any Connect Cases call, and the
// objects applied once the external id is fixed.
func TestConnectionWrongExternalID(t *testing.T) {
	g := NewWithT(t)
	w := newConnWorld(t)
	conn := w.connection("conn-b", casesv1alpha1.CasesConnectionSpec{
		AssumeRole:        &casesv1alpha1.AssumeRoleSpec{RoleARN: roleB, ExternalID: "wrong-external-id"},
		NamespaceSelector: w.selectTeam("b"), Domains: []string{"*"},
	}, nil)
	w.start(0, nil)
	g.Eventually(connectionReady(conn), connTimeout, connInterval).Should(Equal("False/" + casesv1alpha1.AssumeRoleFailedReason))
	cur := &casesv1alpha1.CasesConnection{}
	g.Expect(k8sClient.Get(context.Background(), client.ObjectKeyFromObject(conn), cur)).To(Succeed())
	ready := meta.FindStatusCondition(cur.Status.Conditions, casesv1alpha1.ReadyCondition)
	g.Expect(ready.Message).To(ContainSubstring("check its trust policy and the external id"))
	g.Expect(ready.Message).To(ContainSubstring("AccessDenied"))
	g.Expect(meta.IsStatusConditionTrue(cur.Status.Conditions, casesv1alpha1.StalledCondition)).To(BeTrue())

	obj := w.object(w.nsB, "team-b", "conn-b", "domain-b", "case-1", "from team B")
	g.Eventually(w.readyReasonOf(obj), connTimeout, connInterval).Should(Equal(casesv1alpha1.ConnectionNotReadyReason))
	g.Expect(readyMessage(w.get(obj))).To(ContainSubstring(casesv1alpha1.AssumeRoleFailedReason))
	g.Expect(w.calls("UpdateCase", "", "")).To(BeEmpty())

	g.Expect(k8sClient.Get(context.Background(), client.ObjectKeyFromObject(conn), cur)).To(Succeed())
	cur.Spec.AssumeRole.ExternalID = externalIDB
	g.Expect(k8sClient.Update(context.Background(), cur)).To(Succeed())
	g.Eventually(connectionReady(conn), connTimeout, connInterval).Should(Equal("True/Connected"))
	g.Eventually(w.readyReasonOf(obj), connTimeout, connInterval).Should(Equal(casesv1alpha1.AppliedReason))
}

// TestConnectionCredentialsRefresh uses a role whose credentials live two
// seconds: objects created across several expiries are applied, and no
// call is refused for an expired token.
func TestConnectionCredentialsRefresh(t *testing.T) {
	g := NewWithT(t)
	w := newConnWorld(t)
	conn := w.connection("short", casesv1alpha1.CasesConnectionSpec{
		AssumeRole: &casesv1alpha1.AssumeRoleSpec{RoleARN: roleShort}, NamespaceSelector: w.selectTeam("a"), Domains: []string{"domain-a"},
	}, nil)
	w.start(500*time.Millisecond, nil)
	g.Eventually(connectionReady(conn), connTimeout, connInterval).Should(Equal("True/Connected"))

	for i := range 3 {
		before := len(w.calls("sts:AssumeRole", "", ""))
		obj := w.object(w.nsA, fmt.Sprintf("round-%d", i), "short", "domain-a", fmt.Sprintf("case-%d", i+1), fmt.Sprintf("round %d", i))
		g.Eventually(w.readyReasonOf(obj), connTimeout, connInterval).Should(Equal(casesv1alpha1.AppliedReason))
		// Wait past the lifetime of the credentials in use: the next call
		// needs new ones.
		g.Eventually(func() int { return len(w.calls("sts:AssumeRole", "", "")) }, connTimeout, connInterval).Should(BeNumerically(">", before))
	}
	for _, c := range w.calls("UpdateCase", "", "") {
		g.Expect(c.Outcome).To(Equal(emulator.OutcomeOK), "no UpdateCase failed, expired token included")
	}
	g.Expect(w.calls("UpdateCase", "", "")).To(HaveLen(3))
}

// TestConnectionNamespaceLabels grants and revokes a namespace's access by
// changing its labels: the namespace watch runs the objects again.
func TestConnectionNamespaceLabels(t *testing.T) {
	g := NewWithT(t)
	w := newConnWorld(t)
	conn := w.connection("conn-a", casesv1alpha1.CasesConnectionSpec{
		AssumeRole: &casesv1alpha1.AssumeRoleSpec{RoleARN: roleA}, NamespaceSelector: w.selectTeam("a"), Domains: []string{"domain-a"},
	}, nil)
	w.start(0, nil)
	g.Eventually(connectionReady(conn), connTimeout, connInterval).Should(Equal("True/Connected"))

	obj := w.object(w.nsB, "from-b", "conn-a", "domain-a", "case-3", "from namespace B")
	g.Eventually(w.readyReasonOf(obj), connTimeout, connInterval).Should(Equal(casesv1alpha1.NotPermittedReason))
	g.Expect(w.calls("UpdateCase", "domain-a", "case-3")).To(BeEmpty())

	setTeam := func(team string) {
		ns := &corev1.Namespace{}
		g.Expect(k8sClient.Get(context.Background(), client.ObjectKey{Name: w.nsB}, ns)).To(Succeed())
		ns.Labels["team"] = w.teamLabel(team)
		g.Expect(k8sClient.Update(context.Background(), ns)).To(Succeed())
	}
	setTeam("a")
	g.Eventually(w.readyReasonOf(obj), connTimeout, connInterval).Should(Equal(casesv1alpha1.AppliedReason))
	g.Expect(w.calls("UpdateCase", "domain-a", "case-3")).To(HaveLen(1))

	setTeam("b")
	g.Eventually(w.readyReasonOf(obj), connTimeout, connInterval).Should(Equal(casesv1alpha1.NotPermittedReason))
	cur := w.get(obj)
	cur.Spec.Fields = []casesv1alpha1.CaseField{stringField("summary", "changed after the revocation")}
	g.Expect(k8sClient.Update(context.Background(), cur)).To(Succeed())
	g.Eventually(func(g Gomega) int64 { return w.get(obj).Status.ObservedGeneration }, connTimeout, connInterval).Should(Equal(int64(2)))
	g.Expect(readyReason(w.get(obj))).To(Equal(casesv1alpha1.NotPermittedReason))
	g.Expect(w.calls("UpdateCase", "domain-a", "case-3")).To(HaveLen(1), "no call after the revocation")
}

// TestConflictsScopedByAccount sets one field of the same domain and case
// ids to two values: through connections to two accounts they are two
// cases and both apply; through two connections to one account they
// conflict.
func TestConflictsScopedByAccount(t *testing.T) {
	tests := map[string]struct {
		second       string
		wantConflict bool
	}{
		"two accounts":           {second: roleB},
		"one account, two roles": {second: roleA2, wantConflict: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			w := newConnWorld(t)
			all := &metav1.LabelSelector{}
			first := w.connection("first", casesv1alpha1.CasesConnectionSpec{
				AssumeRole: &casesv1alpha1.AssumeRoleSpec{RoleARN: roleA}, NamespaceSelector: all, Domains: []string{"domain-a"},
			}, nil)
			role := &casesv1alpha1.AssumeRoleSpec{RoleARN: tc.second}
			if tc.second == roleB {
				role.ExternalID = externalIDB
			}
			second := w.connection("second", casesv1alpha1.CasesConnectionSpec{AssumeRole: role, NamespaceSelector: all, Domains: []string{"domain-a"}}, nil)
			w.start(0, nil)
			g.Eventually(connectionReady(first), connTimeout, connInterval).Should(Equal("True/Connected"))
			g.Eventually(connectionReady(second), connTimeout, connInterval).Should(Equal("True/Connected"))

			one := w.object(w.nsA, "one", "first", "domain-a", "case-4", "value one")
			g.Eventually(w.readyReasonOf(one), connTimeout, connInterval).Should(Equal(casesv1alpha1.AppliedReason))
			two := w.object(w.nsB, "two", "second", "domain-a", "case-4", "value two")
			want := casesv1alpha1.AppliedReason
			if tc.wantConflict {
				want = casesv1alpha1.FieldConflictReason
			}
			g.Eventually(w.readyReasonOf(two), connTimeout, connInterval).Should(Equal(want))
			g.Eventually(w.readyReasonOf(one), connTimeout, connInterval).Should(Equal(want))
		})
	}
}

// TestDefaultConnection covers objects without connectionRef: the
// operator's own identity when no connection is marked default, the
// connection marked default once there is one, and ConnectionNotFound under
// --require-connection.
func TestDefaultConnection(t *testing.T) {
	g := NewWithT(t)
	w := newConnWorld(t)
	w.start(0, nil)

	own := w.object(w.nsA, "own", "", "domain-a", "case-1", "own identity")
	g.Eventually(w.readyReasonOf(own), connTimeout, connInterval).Should(Equal(casesv1alpha1.AppliedReason))
	g.Expect(w.calls("UpdateCase", "domain-a", "case-1")[0].AccessKeyID).To(Equal(testAccessKey), "the operator's own identity")

	def := w.connection("default", casesv1alpha1.CasesConnectionSpec{
		AssumeRole: &casesv1alpha1.AssumeRoleSpec{RoleARN: roleA}, NamespaceSelector: w.selectTeam("a"), Domains: []string{"domain-a"},
	}, map[string]string{casesv1alpha1.DefaultConnectionAnnotation: "true"})
	g.Eventually(connectionReady(def), connTimeout, connInterval).Should(Equal("True/Connected"))
	viaDefault := w.object(w.nsA, "via-default", "", "domain-a", "case-2", "default connection")
	g.Eventually(w.readyReasonOf(viaDefault), connTimeout, connInterval).Should(Equal(casesv1alpha1.AppliedReason))
	g.Expect(w.calls("UpdateCase", "domain-a", "case-2")[0].AccessKeyID).To(HavePrefix("ASIA"), "the default connection's role")

	refused := w.object(w.nsB, "refused", "", "domain-a", "case-3", "namespace B")
	g.Eventually(w.readyReasonOf(refused), connTimeout, connInterval).Should(Equal(casesv1alpha1.NotPermittedReason),
		"the default connection does not serve namespace B")
	g.Expect(w.calls("UpdateCase", "domain-a", "case-3")).To(BeEmpty())
}

func TestRequireConnection(t *testing.T) {
	g := NewWithT(t)
	w := newConnWorld(t)
	w.start(0, func(r *CaseFieldUpdateReconciler) { r.RequireConnection = true })
	obj := w.object(w.nsA, "no-connection", "", "domain-a", "case-1", "own identity")
	g.Eventually(w.readyReasonOf(obj), connTimeout, connInterval).Should(Equal(casesv1alpha1.ConnectionNotFoundReason))
	missing := w.object(w.nsA, "missing", "absent", "domain-a", "case-2", "absent connection")
	g.Eventually(w.readyReasonOf(missing), connTimeout, connInterval).Should(Equal(casesv1alpha1.ConnectionNotFoundReason))
	g.Expect(readyMessage(w.get(missing))).To(ContainSubstring("does not exist"))
	g.Expect(w.calls("UpdateCase", "", "")).To(BeEmpty())
}

// TestAppliedObjectKeepsReadyWhileConnectionFails breaks the connection of
// an applied object: Ready stays True (Stalled shows the connection's
// failure), and once the connection is fixed the spec is not sent again.
func TestAppliedObjectKeepsReadyWhileConnectionFails(t *testing.T) {
	g := NewWithT(t)
	w := newConnWorld(t)
	conn := w.connection("conn-b", casesv1alpha1.CasesConnectionSpec{
		AssumeRole:        &casesv1alpha1.AssumeRoleSpec{RoleARN: roleB, ExternalID: externalIDB},
		NamespaceSelector: w.selectTeam("b"), Domains: []string{"domain-b"},
	}, nil)
	w.start(0, nil)
	g.Eventually(connectionReady(conn), connTimeout, connInterval).Should(Equal("True/Connected"))
	obj := w.object(w.nsB, "applied", "conn-b", "domain-b", "case-1", "applied once")
	g.Eventually(w.readyReasonOf(obj), connTimeout, connInterval).Should(Equal(casesv1alpha1.AppliedReason))

	setExternalID := func(id string) {
		cur := &casesv1alpha1.CasesConnection{}
		g.Expect(k8sClient.Get(context.Background(), client.ObjectKeyFromObject(conn), cur)).To(Succeed())
		cur.Spec.AssumeRole.ExternalID = id
		g.Expect(k8sClient.Update(context.Background(), cur)).To(Succeed())
	}
	setExternalID("wrong")
	g.Eventually(connectionReady(conn), connTimeout, connInterval).Should(Equal("False/" + casesv1alpha1.AssumeRoleFailedReason))
	g.Eventually(func(g Gomega) string {
		stalled := meta.FindStatusCondition(w.get(obj).Status.Conditions, casesv1alpha1.StalledCondition)
		g.Expect(stalled).NotTo(BeNil())
		return stalled.Reason
	}, connTimeout, connInterval).Should(Equal(casesv1alpha1.ConnectionNotReadyReason))
	g.Expect(meta.IsStatusConditionTrue(w.get(obj).Status.Conditions, casesv1alpha1.ReadyCondition)).To(BeTrue(), "the spec stays applied")

	setExternalID(externalIDB)
	g.Eventually(connectionReady(conn), connTimeout, connInterval).Should(Equal("True/Connected"))
	g.Eventually(func() *metav1.Condition {
		return meta.FindStatusCondition(w.get(obj).Status.Conditions, casesv1alpha1.StalledCondition)
	}, connTimeout, connInterval).Should(BeNil())
	g.Expect(readyReason(w.get(obj))).To(Equal(casesv1alpha1.AppliedReason))
	g.Expect(w.calls("UpdateCase", "domain-b", "case-1")).To(HaveLen(1), "the applied spec is not sent again")
}
