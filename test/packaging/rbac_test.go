package packaging

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/yaml"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/controllers"
	"github.com/connectcases-operator/connectcases-operator/internal/cases"
	"github.com/connectcases-operator/connectcases-operator/internal/connections"
)

// grant is one (group, resource, verb) permission; resource includes the
// subresource ("casefieldupdates/status").
type grant struct{ group, resource, verb string }

func (g grant) String() string { return g.group + "/" + g.resource + ":" + g.verb }

// TestGeneratedRolesHaveNoWildcard checks the manager's roles grant no
// "*" group, resource or verb, and no resource names of other kinds.
func TestGeneratedRolesHaveNoWildcard(t *testing.T) {
	for _, name := range []string{"role.yaml", "leader_election_role.yaml"} {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			rules := readRules(t, name)
			g.Expect(rules).NotTo(BeEmpty())
			for _, r := range rules {
				g.Expect(r.APIGroups).NotTo(ContainElement("*"))
				g.Expect(r.Resources).NotTo(ContainElement(ContainSubstring("*")))
				g.Expect(r.Verbs).NotTo(ContainElement("*"))
				g.Expect(r.NonResourceURLs).To(BeEmpty())
			}
		})
	}
}

// TestRBACIsSufficientAndMinimal runs the reconciler, with leader election,
// as the manager's ServiceAccount bound to exactly config/rbac's roles
// (impersonation), and records every API request it makes. The objects
// reach Ready, no request is refused, and the set of (group, resource,
// verb) used equals the set granted: a grant the code does not use fails
// the test as much as a missing one.
func TestRBACIsSufficientAndMinimal(t *testing.T) {
	g := NewWithT(t)
	w := newWorld(t)
	ctx := context.Background()
	sa := "controller-manager"
	g.Expect(k8sClient.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa, Namespace: w.namespace}})).To(Succeed())
	subject := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa, Namespace: w.namespace}}

	clusterRules := readRules(t, "role.yaml")
	leaderRules := readRules(t, "leader_election_role.yaml")
	cr := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: w.namespace + "-manager"}, Rules: clusterRules}
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: w.namespace + "-manager"}, Subjects: subject,
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: cr.Name}}
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "leader-election", Namespace: w.namespace}, Rules: leaderRules}
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "leader-election", Namespace: w.namespace}, Subjects: subject,
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name}}
	g.Expect(k8sClient.Create(ctx, cr)).To(Succeed())
	g.Expect(k8sClient.Create(ctx, crb)).To(Succeed())
	g.Expect(k8sClient.Create(ctx, role)).To(Succeed())
	g.Expect(k8sClient.Create(ctx, rb)).To(Succeed())
	t.Cleanup(func() {
		_ = k8sClient.Delete(ctx, crb)
		_ = k8sClient.Delete(ctx, cr)
	})

	rec := &requestRecorder{}
	cfg := rest.CopyConfig(restConfig)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + w.namespace + ":" + sa}
	cfg.Wrap(rec.wrap)
	// The manager serves CasesConnections too: it watches them and the
	// namespaces, and patches the connections' status.
	base, err := cases.LoadConfig(ctx, cases.Options{Region: testRegion})
	g.Expect(err).NotTo(HaveOccurred())
	registry := connections.NewRegistry(connections.Options{Base: base})
	w.startManager(managerOptions{restConfig: cfg, leaderElection: true, connections: registry, setup: func(mgr manager.Manager) {
		cr := &controllers.CasesConnectionReconciler{Client: mgr.GetClient(), Registry: registry}
		g.Expect(cr.SetupWithManager(mgr)).To(Succeed())
	}})

	// Two generations applied (status patches, Normal Events) and a
	// validation error (a Warning Event).
	obj := w.newObject("rbac", "case-1", true, field("priority", "high"))
	g.Expect(k8sClient.Create(ctx, obj)).To(Succeed())
	cur := w.waitForReason(obj, casesv1alpha1.AppliedReason)
	cur.Spec.Fields[0] = field("priority", "low")
	g.Expect(k8sClient.Update(ctx, cur)).To(Succeed())
	g.Eventually(func(g Gomega) int64 {
		return w.waitForReason(obj, casesv1alpha1.AppliedReason).Status.ObservedGeneration
	}, timeout, interval).Should(Equal(int64(2)))
	bad := w.newObject("rbac-invalid", "case-2", true, field("priority", "urgent"))
	g.Expect(k8sClient.Create(ctx, bad)).To(Succeed())
	w.waitForReason(bad, casesv1alpha1.ValidationErrorReason)
	// A one-shot object is deleted once applied (ttlSecondsAfterApplied).
	oneShot := w.newObject("rbac-one-shot", "case-3", true, field("priority", "high"))
	oneShot.Spec.TTLSecondsAfterApplied = new(int32(0))
	g.Expect(k8sClient.Create(ctx, oneShot)).To(Succeed())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(oneShot), &casesv1alpha1.CaseFieldUpdate{}))
	}, timeout, interval).Should(BeTrue())

	// An object applied through a CasesConnection.
	conn := &casesv1alpha1.CasesConnection{
		ObjectMeta: metav1.ObjectMeta{Name: w.namespace + "-rbac"},
		Spec: casesv1alpha1.CasesConnectionSpec{Region: testRegion, Domains: []string{"domain-1"},
			NamespaceSelector: &metav1.LabelSelector{},
			Endpoints:         &casesv1alpha1.ConnectionEndpoints{ConnectCases: w.url, STS: w.url}},
	}
	g.Expect(k8sClient.Create(ctx, conn)).To(Succeed())
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, conn) })
	viaConnection := w.newObject("rbac-connection", "case-4", true, field("priority", "high"))
	viaConnection.Spec.ConnectionRef = &casesv1alpha1.ConnectionReference{Name: conn.Name}
	g.Expect(k8sClient.Create(ctx, viaConnection)).To(Succeed())
	w.waitForReason(viaConnection, casesv1alpha1.AppliedReason)

	granted := grantsOf(append(clusterRules, leaderRules...))
	g.Eventually(func() []string { return withFallbacks(rec.used()) }, timeout, interval).Should(Equal(granted),
		"the (group, resource, verb) set the manager used must equal the set its roles grant")
	g.Expect(rec.forbidden()).To(BeEmpty(), "no request of the manager may be refused")
}

// fallbackGrants are grants the manager needs on a path this test does not
// take:
//   - client-go's informers (of CaseFieldUpdates, CasesConnections and
//     namespaces) list with a streaming watch (WatchListClient) and fall
//     back to a plain list on API servers that do not serve streaming
//     lists;
//   - client-go's events recorder, which the tests' managers use and which
//     the reconciler accepts like any events.EventRecorder, patches an
//     Event into a series when the same Event (same object and
//     resourceVersion, reason and note) is recorded again; without the
//     grant that repeat is refused and lost. The manager binary's own
//     recorder creates every Event.
var fallbackGrants = []string{"cases.connectcases.dev/casefieldupdates:list", "cases.connectcases.dev/casesconnections:list",
	"/namespaces:list", "events.k8s.io/events:patch"}

// withFallbacks adds fallbackGrants to a set of used grants.
func withFallbacks(used []string) []string {
	set := map[string]bool{}
	for _, u := range append(used, fallbackGrants...) {
		set[u] = true
	}
	return sortedKeys(set)
}

// readRules reads the rules of a role in config/rbac.
func readRules(t *testing.T, name string) []rbacv1.PolicyRule {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "config", "rbac", name))
	if err != nil {
		t.Fatal(err)
	}
	var role rbacv1.ClusterRole
	if err := yaml.Unmarshal(data, &role); err != nil {
		t.Fatal(err)
	}
	return role.Rules
}

// grantsOf expands rules into sorted "group/resource:verb" strings.
func grantsOf(rules []rbacv1.PolicyRule) []string {
	set := map[string]bool{}
	for _, r := range rules {
		for _, gr := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					set[grant{gr, res, v}.String()] = true
				}
			}
		}
	}
	return sortedKeys(set)
}

func sortedKeys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// requestRecorder is an http.RoundTripper wrapper that records the
// (group, resource, verb) of each resource request and the refused ones.
type requestRecorder struct {
	mu      sync.Mutex
	grants  map[string]bool
	refused map[string]bool
}

func (r *requestRecorder) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(req)
		gr, ok := parseRequest(req.Method, req.URL)
		if !ok {
			return resp, err
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.grants == nil {
			r.grants, r.refused = map[string]bool{}, map[string]bool{}
		}
		r.grants[gr.String()] = true
		if err == nil && resp.StatusCode == http.StatusForbidden {
			r.refused[gr.String()] = true
		}
		return resp, err
	})
}

func (r *requestRecorder) used() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return sortedKeys(r.grants)
}

func (r *requestRecorder) forbidden() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return sortedKeys(r.refused)
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// parseRequest reads the group, resource (with subresource) and RBAC verb
// of an API request, as the API server's authorizer sees them; ok is false
// for non-resource requests (discovery, /version).
func parseRequest(method string, u *url.URL) (grant, bool) {
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	var group string
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 4 && parts[0] == "apis":
		group, parts = parts[1], parts[3:]
	default:
		return grant{}, false
	}
	if len(parts) >= 2 && parts[0] == "namespaces" && len(parts) != 2 {
		parts = parts[2:]
	}
	resource, name := parts[0], ""
	if len(parts) >= 2 {
		name = parts[1]
	}
	if len(parts) >= 3 {
		resource += "/" + parts[2]
	}
	verb := map[string]string{http.MethodPost: "create", http.MethodPut: "update", http.MethodPatch: "patch", http.MethodDelete: "delete"}[method]
	if method == http.MethodGet {
		switch {
		case u.Query().Get("watch") == "true" || u.Query().Get("watch") == "1":
			verb = "watch"
		case name == "":
			verb = "list"
		default:
			verb = "get"
		}
	}
	if method == http.MethodDelete && name == "" {
		verb = "deletecollection"
	}
	return grant{group, resource, verb}, true
}
