package controllers

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/emulator"
)

// hungDomain is the domain whose calls hang in the catalog tests.
const hungDomain = "domain-hung"

// hungDomainSeed is hungDomain, added to the suite's seed.
const hungDomainSeed = `
domains:
- id: domain-hung
  name: Hung domain
  fields:
  - {id: summary, name: Summary, type: Text}
  templates:
  - {id: template-1, name: Default}
  cases:
  - {id: case-1, templateId: template-1}
  - {id: case-2, templateId: template-1}
`

// withHungDomain points the harness at an emulator that also serves
// hungDomain to the test principal, every call of which hangs until the
// client gives up.
func withHungDomain(t *testing.T, h *harness) {
	t.Helper()
	g := NewWithT(t)
	seed, err := emulator.ParseSeed([]byte(testSeed))
	g.Expect(err).NotTo(HaveOccurred())
	extra, err := emulator.ParseSeed([]byte(hungDomainSeed))
	g.Expect(err).NotTo(HaveOccurred())
	seed.Domains = append(seed.Domains, extra.Domains...)
	found := false
	for i, p := range seed.Principals {
		if p.AccessKeyID == testAccessKey {
			seed.Principals[i].Domains = append(slices.Clone(p.Domains), hungDomain)
			found = true
		}
	}
	g.Expect(found).To(BeTrue(), "the suite's seed has the test principal")
	emu, err := emulator.New(emulator.Options{Region: testRegion, Seed: seed, RandomSeed: 1,
		Quotas: map[string]emulator.Quota{"UpdateCase": {RPS: 1000, Burst: 1000}}})
	g.Expect(err).NotTo(HaveOccurred())
	emu.SetFaults([]emulator.Fault{{Operation: "*", DomainID: hungDomain, Kind: emulator.FaultLatency, Rate: 1, MinLatency: time.Hour}})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	h.emu, h.url = emu, srv.URL
	h.cases = h.newCasesClient(testAccessKey, testSecretKey)
}

// TestCatalogHangInOneDomainLeavesTheOthersConverging occupies both of the
// manager's workers with objects of a domain whose catalog reads hang, then
// shows that an object of another domain is still applied: every catalog
// call has the reconciler's call timeout, and a lookup waiting for the hung
// read gives up with it instead of queueing behind a lock.
func TestCatalogHangInOneDomainLeavesTheOthersConverging(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t, harnessOptions{})
	withHungDomain(t, h)
	h.startManager(func(r *CaseFieldUpdateReconciler) {
		r.CallTimeout = 2 * time.Second
		h.withCatalog(r)
	})
	ctx := context.Background()

	var hung []*casesv1alpha1.CaseFieldUpdate
	for i, caseID := range []string{"case-1", "case-2"} {
		obj := h.newObject("hung-"+string(rune('a'+i)), caseID, stringField("summary", "never sent"))
		obj.Spec.DomainID = hungDomain
		g.Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		hung = append(hung, obj)
	}
	g.Eventually(func() int { return h.emu.Calls().InFlight }, timeout, interval).Should(BeNumerically(">=", 1),
		"a catalog read of the hung domain is in flight")

	// Queued behind both objects of the hung domain: without deadlines it
	// never gets a worker.
	ok := h.newObject("other-domain", "case-1", stringField("summary", "applied"))
	g.Expect(k8sClient.Create(ctx, ok)).To(Succeed())
	g.Eventually(h.readyReasonOf(ok), timeout, interval).Should(Equal(casesv1alpha1.AppliedReason))

	for _, obj := range hung {
		g.Eventually(h.readyReasonOf(obj), timeout, interval).Should(Equal(casesv1alpha1.NetworkErrorReason),
			"the hung read is reported, and retried with backoff")
		g.Expect(readyMessage(h.get(obj))).To(Equal("The call to Connect Cases timed out"))
	}
	for _, c := range h.emu.Calls().Recent {
		g.Expect(c.Operation == "UpdateCase" && c.DomainID == hungDomain).To(BeFalse(), "nothing is sent before the fields are known")
	}
}
