package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/emulator"
	"github.com/connectcases-operator/connectcases-operator/internal/localenv"
	"github.com/connectcases-operator/connectcases-operator/internal/testenv"
)

// Settings of the leader election test: each manager signs with its own
// principal, so that the emulator's call records tell who called.
const (
	leaderNamespace = "leader"
	leaderDomain    = "leader-domain"
	leaseName       = "connectcases-leader-test"
	leaderKeyOne    = "AKIDLEADERONE"
	leaderKeyTwo    = "AKIDLEADERTWO"
	leaderBatch     = 10
	// takeoverGoal is the longest a standby may take to lead after the
	// leader dies, with a 4s lease.
	takeoverGoal = 20 * time.Second
)

func TestLeaderElectionTakeover(t *testing.T) {
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr)))
	g := NewWithT(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	root, err := testenv.RepoRoot()
	g.Expect(err).NotTo(HaveOccurred())
	dir := t.TempDir()

	tb, err := localenv.StartTestbed(ctx, root, dir, leaderNamespace)
	t.Cleanup(tb.Stop)
	g.Expect(err).NotTo(HaveOccurred())
	managerBin, emulatorBin, cp, c := tb.ManagerBin, tb.EmulatorBin, tb.ControlPlane, tb.Client

	secrets := map[string]string{leaderKeyOne: "leader-one-secret-access-key", leaderKeyTwo: "leader-two-secret-access-key"}
	var principals []emulator.Principal
	for _, key := range []string{leaderKeyOne, leaderKeyTwo} {
		principals = append(principals, emulator.Principal{AccessKeyID: key, SecretAccessKey: secrets[key], Actions: []string{"*"}, Domains: []string{leaderDomain}})
	}
	seed := filepath.Join(dir, "seed.yaml")
	g.Expect(localenv.WriteSeed(seed, localenv.WorkloadSeed(leaderDomain, 2*leaderBatch, principals...))).To(Succeed())
	emu, err := localenv.StartEmulator(ctx, emulatorBin, filepath.Join(dir, "emulator.log"), "--seed", seed, "--quota", "UpdateCase=0:0")
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { _ = emu.Stop(10 * time.Second) })

	startManager := func(key string) (*localenv.Process, string) {
		probe, err := localenv.FreeAddr()
		g.Expect(err).NotTo(HaveOccurred())
		p, err := localenv.Start("manager-"+key, filepath.Join(dir, key+".log"),
			localenv.ManagerEnvWithCredentials(cp.Kubeconfig, emu.URL, key, secrets[key]), managerBin,
			"--leader-elect", "--leader-election-id="+leaseName, "--leader-election-namespace="+leaderNamespace,
			"--leader-election-lease-duration=4s", "--leader-election-renew-deadline=3s", "--leader-election-retry-period=1s",
			"--metrics-bind-address=0", "--health-probe-bind-address="+probe, "--watch-namespaces="+leaderNamespace,
			"--aws-rps", "UpdateCase=50", "--aws-burst", "UpdateCase=50")
		g.Expect(err).NotTo(HaveOccurred())
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("log of %s:\n%s", p.Name, p.Tail(40))
			}
			_ = p.Stop(30 * time.Second)
		})
		return p, "http://" + probe
	}
	holder := func() string {
		lease := &coordinationv1.Lease{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: leaderNamespace, Name: leaseName}, lease); err != nil || lease.Spec.HolderIdentity == nil {
			return ""
		}
		return *lease.Spec.HolderIdentity
	}

	// The first manager leads; the second, started after it, waits.
	one, _ := startManager(leaderKeyOne)
	g.Eventually(holder).WithTimeout(2 * time.Minute).WithPolling(100 * time.Millisecond).ShouldNot(BeEmpty())
	leaderOne := holder()
	two, twoProbe := startManager(leaderKeyTwo)
	g.Eventually(func() (int, error) { return probeStatus(ctx, twoProbe+"/readyz") }).
		WithTimeout(2 * time.Minute).WithPolling(100 * time.Millisecond).Should(Equal(http.StatusOK))

	tracker, err := localenv.StartTracker(ctx, c, leaderNamespace, nil)
	g.Expect(err).NotTo(HaveOccurred())
	create := func(from int) {
		objs := make([]*casesv1alpha1.CaseFieldUpdate, leaderBatch)
		for k := range objs {
			objs[k] = localenv.WorkloadObject(leaderNamespace, fmt.Sprintf("leader-%02d", from+k), leaderDomain, from+k, nil)
		}
		g.Expect(localenv.CreateAll(ctx, c, objs, 4, nil)).To(Succeed())
	}

	// Objects become Ready through the leader; the standby calls nothing.
	create(0)
	g.Expect(tracker.WaitReady(ctx, leaderBatch, one.Done())).To(Succeed())
	g.Expect(holder()).To(Equal(leaderOne))
	callers, err := updateCallers(ctx, emu.URL)
	g.Expect(err).NotTo(HaveOccurred())
	for i := range leaderBatch {
		g.Expect(callers[localenv.WorkloadCaseID(i)]).To(HaveKey(leaderKeyOne), "case %d", i)
	}
	g.Expect(callsBy(ctx, emu.URL, leaderKeyTwo)).To(BeZero(), "the standby called AWS")

	// SIGKILL the leader: it cannot release the lease, so the standby takes
	// over when the lease expires. Objects created meanwhile wait for it.
	killed := time.Now()
	one.Kill()
	create(leaderBatch)
	g.Eventually(holder).WithTimeout(takeoverGoal).WithPolling(100*time.Millisecond).
		Should(And(Not(BeEmpty()), Not(Equal(leaderOne))), "the standby did not take the lease")
	takeover := time.Since(killed)
	g.Expect(tracker.WaitReady(ctx, 2*leaderBatch, two.Done())).To(Succeed())

	var firstReady time.Time
	for name, tr := range tracker.Tracks() {
		var i int
		_, err := fmt.Sscanf(name, "leader-%02d", &i)
		g.Expect(err).NotTo(HaveOccurred())
		if i >= leaderBatch && (firstReady.IsZero() || tr.Ready.Before(firstReady)) {
			firstReady = tr.Ready
		}
	}
	t.Logf("takeover: the standby held the lease %s after the leader was killed; the first object created after the kill was Ready %s after it",
		takeover.Round(10*time.Millisecond), firstReady.Sub(killed).Round(10*time.Millisecond))

	// The new leader applied the new objects and left the settled ones alone.
	callers, err = updateCallers(ctx, emu.URL)
	g.Expect(err).NotTo(HaveOccurred())
	for i := range 2 * leaderBatch {
		if i < leaderBatch {
			g.Expect(callers[localenv.WorkloadCaseID(i)]).NotTo(HaveKey(leaderKeyTwo), "case %d was applied again", i)
		} else {
			g.Expect(callers[localenv.WorkloadCaseID(i)]).To(Equal(map[string]bool{leaderKeyTwo: true}), "case %d", i)
		}
	}
	cases, err := localenv.EmulatorCases(ctx, emu.URL)
	g.Expect(err).NotTo(HaveOccurred())
	for i := range 2 * leaderBatch {
		g.Expect(cases[leaderDomain][localenv.WorkloadCaseID(i)]).To(Equal(localenv.WorkloadValues(i)), "case %d", i)
	}
	g.Expect(takeover).To(BeNumerically("<", takeoverGoal))
	g.Expect(tracker.Stalled()).To(BeEmpty())
}

// updateCallers returns, by case id, the access keys of the UpdateCase calls
// that succeeded, from the emulator's recent calls.
func updateCallers(ctx context.Context, url string) (map[string]map[string]bool, error) {
	calls, err := localenv.EmulatorCalls(ctx, url)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]bool{}
	for _, rec := range calls.Recent {
		if rec.Operation != "UpdateCase" || rec.Outcome != "OK" {
			continue
		}
		caseID := path.Base(rec.Path)
		if out[caseID] == nil {
			out[caseID] = map[string]bool{}
		}
		out[caseID][rec.AccessKeyID] = true
	}
	return out, nil
}

// callsBy counts the emulator's recent calls, of any operation and outcome,
// signed with an access key.
func callsBy(ctx context.Context, url, accessKeyID string) (int, error) {
	calls, err := localenv.EmulatorCalls(ctx, url)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, rec := range calls.Recent {
		if rec.AccessKeyID == accessKeyID {
			n++
		}
	}
	return n, nil
}

// probeStatus returns the HTTP status of a GET of url.
func probeStatus(ctx context.Context, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return resp.StatusCode, nil
}
