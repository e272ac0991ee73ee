package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/emulator"
	"github.com/connectcases-operator/connectcases-operator/internal/localenv"
)

// The identities of scenario D: the manager's base user lives in its own
// account, and each team account holds a role that trusts that account.
const (
	baseAccount    = "111111111111"
	baseUserKey    = "AKIDBENCHOPERATOR"
	baseUserSecret = "bench-operator-secret"
	benchRole      = "bench-writer"
	// accountLabel labels a namespace of D with the account its
	// connection writes to; the connection's namespaceSelector reads it.
	accountLabel = "bench.connectcases.dev/account"
)

// accountsRun is the layout of a run of scenario D: one namespace, one
// domain, one account and one CasesConnection per team, the objects split
// evenly between the namespaces.
type accountsRun struct {
	// run names the run; its teams' namespaces and connections derive
	// from it.
	run string
	// accounts are the team accounts' ids, one per team.
	accounts []string
	// sizes is how many objects each team has.
	sizes []int
	// objs are every team's objects, interleaved (team 1's first, team
	// 2's first, team 1's second...) so that both limiters have work from
	// the start.
	objs []*casesv1alpha1.CaseFieldUpdate
}

// newAccountsRun splits n objects between teams, each writing cases 0 to
// its size-1 of its own domain through its own connection.
func newAccountsRun(run string, n, teams int, labels map[string]string) *accountsRun {
	a := &accountsRun{run: run}
	for k := range teams {
		a.accounts = append(a.accounts, fmt.Sprintf("%012d", 222222222222+111111111111*int64(k)))
		a.sizes = append(a.sizes, n/teams+map[bool]int{true: 1, false: 0}[k < n%teams])
	}
	for i := range slices.Max(a.sizes) {
		for k := range teams {
			if i >= a.sizes[k] {
				continue
			}
			obj := localenv.WorkloadObject(a.namespace(k), fmt.Sprintf("obj-%d-%05d", k+1, i), a.domain(k), i, labels)
			obj.Spec.ConnectionRef = &casesv1alpha1.ConnectionReference{Name: a.connection(k)}
			a.objs = append(a.objs, obj)
		}
	}
	return a
}

// namespace, domain and connection name team k's namespace, Cases domain
// and CasesConnection.
func (a *accountsRun) namespace(k int) string  { return fmt.Sprintf("%s-team-%d", a.run, k+1) }
func (a *accountsRun) domain(k int) string     { return fmt.Sprintf("%s-team-%d", benchDomain, k+1) }
func (a *accountsRun) connection(k int) string { return fmt.Sprintf("%s-team-%d", a.run, k+1) }

// namespaces returns every team's namespace.
func (a *accountsRun) namespaces() []string {
	out := make([]string, len(a.accounts))
	for k := range out {
		out[k] = a.namespace(k)
	}
	return out
}

// roleARN returns the ARN of team k's role.
func (a *accountsRun) roleARN(k int) string {
	return fmt.Sprintf("arn:aws:iam::%s:role/%s", a.accounts[k], benchRole)
}

// externalID is the external id that team k's role requires: the first
// team's role requires one, the others none, so that both kinds of trust
// are exercised.
func (a *accountsRun) externalID(k int) string {
	if k == 0 {
		return a.run + "-team-1"
	}
	return ""
}

// seed returns the emulator's state: a domain per team holding its cases,
// the base account with the manager's user, and each team's account with a
// role that trusts the base account and reaches the team's domain only.
func (a *accountsRun) seed() *emulator.Seed {
	seed := &emulator.Seed{Accounts: []emulator.SeedAccount{{ID: baseAccount,
		Users: []emulator.SeedUser{{Name: "operator", AccessKeyID: baseUserKey, SecretAccessKey: baseUserSecret}}}}}
	for k, account := range a.accounts {
		seed.Domains = append(seed.Domains, localenv.WorkloadSeed(a.domain(k), a.sizes[k]).Domains...)
		seed.Accounts = append(seed.Accounts, emulator.SeedAccount{ID: account, Roles: []emulator.SeedRole{{
			Name:    benchRole,
			Trust:   []emulator.TrustRule{{Principals: []string{baseAccount}, ExternalID: a.externalID(k)}},
			Actions: []string{"cases:*"},
			Domains: []string{a.domain(k)},
		}}})
	}
	return seed
}

// ensureNamespaces creates every team's namespace, labelled with its
// account.
func (a *accountsRun) ensureNamespaces(ctx context.Context, c client.Client) error {
	for k := range a.accounts {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: a.namespace(k), Labels: map[string]string{accountLabel: a.accounts[k]}}}
		if err := c.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("failed to create namespace %q: %w", ns.Name, err)
		}
	}
	return nil
}

// connect creates each team's CasesConnection to the emulator at url, its
// UpdateCase limiter set to the account's quota, and waits until every one
// is Ready, so that the measured time holds no STS round trip of a
// connection's first check.
func (a *accountsRun) connect(ctx context.Context, c client.Client, url string, quota int) error {
	for k := range a.accounts {
		conn := &casesv1alpha1.CasesConnection{
			ObjectMeta: metav1.ObjectMeta{Name: a.connection(k)},
			Spec: casesv1alpha1.CasesConnectionSpec{
				Region:            localenv.DemoRegion,
				AssumeRole:        &casesv1alpha1.AssumeRoleSpec{RoleARN: a.roleARN(k), ExternalID: a.externalID(k)},
				Endpoints:         &casesv1alpha1.ConnectionEndpoints{ConnectCases: url, STS: url},
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{accountLabel: a.accounts[k]}},
				Domains:           []string{a.domain(k)},
				RateLimits:        map[string]casesv1alpha1.RateLimit{"UpdateCase": {RPS: float64(quota), Burst: int32(quota)}},
			},
		}
		if err := c.Create(ctx, conn); err != nil {
			return fmt.Errorf("failed to create CasesConnection %q: %w", conn.Name, err)
		}
	}
	for k := range a.accounts {
		name := a.connection(k)
		conn := &casesv1alpha1.CasesConnection{}
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
			if err := c.Get(ctx, client.ObjectKey{Name: name}, conn); err != nil {
				return false, err
			}
			return meta.IsStatusConditionTrue(conn.Status.Conditions, casesv1alpha1.ReadyCondition), nil
		})
		if err != nil {
			return fmt.Errorf("CasesConnection %q is not Ready (%v): %w", name, conn.Status.Conditions, err)
		}
	}
	return nil
}

// mismatches compares every team's domain, as the emulator holds it, with
// the team's objects.
func (a *accountsRun) mismatches(cases map[string]map[string]map[string]emulator.FieldValue) []string {
	var out []string
	for k := range a.accounts {
		for _, m := range localenv.WorkloadMismatches(cases[a.domain(k)], a.sizes[k]) {
			out = append(out, a.domain(k)+": "+m)
		}
	}
	return out
}
