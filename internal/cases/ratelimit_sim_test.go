package cases

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"golang.org/x/time/rate"
)

// quotaRun is a simulated run of the reconciler's use of the limiter: n
// objects, each reconciled until one UpdateCase call is accepted, against a
// service that accepts quota calls a second (its burst as many) and
// throttles the rest. As in the controller, an object that gets a slot
// later waits for it (or is requeued to it) and asks again; a throttled one
// is requeued with full-jitter exponential backoff from 1 s. Answers come
// back after latency; the service decides halfway.
type quotaRun struct {
	n       int
	quota   float64
	created time.Duration // between two objects' creations
	latency time.Duration
	// jitter is added to each answer's latency, up to it at random, so
	// that answers may come back out of order; late is added to each
	// requeue, up to it at random, as busy workers take an object later
	// than asked; seed seeds both.
	jitter, late time.Duration
	seed         uint64
}

// quotaResult is what a simulated run gives.
type quotaResult struct {
	calls, throttled int
	took             time.Duration
}

func (r quotaResult) String() string {
	return fmt.Sprintf("%d calls, %d throttled (%.1f%%), %.1f s", r.calls, r.throttled,
		100*float64(r.throttled)/float64(r.calls), r.took.Seconds())
}

// simEvent is an object's next reconcile, or the answer to its call.
type simEvent struct {
	at       time.Time
	object   int
	answer   bool
	accepted bool
	sent     time.Time
}

type simQueue []simEvent

func (q simQueue) Len() int           { return len(q) }
func (q simQueue) Less(i, j int) bool { return q[i].at.Before(q[j].at) }
func (q simQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *simQueue) Push(x any)        { *q = append(*q, x.(simEvent)) }
func (q *simQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// run drives l, whose clock is clock, through the simulated run.
func (s quotaRun) run(l *Limiter, clock *fakeClock) quotaResult {
	rng := rand.New(rand.NewPCG(1, 2+s.seed))
	start := clock.now()
	service := rate.NewLimiter(rate.Limit(s.quota), int(s.quota))
	q := &simQueue{}
	for i := range s.n {
		heap.Push(q, simEvent{at: start.Add(time.Duration(i) * s.created), object: i})
	}
	failures := make([]int, s.n)
	var res quotaResult
	for q.Len() > 0 {
		e := heap.Pop(q).(simEvent)
		clock.t = e.at
		key := fmt.Sprintf("ns/object-%d", e.object)
		if e.answer {
			l.Observe("UpdateCase", e.sent, !e.accepted)
			if e.accepted {
				res.took = e.at.Sub(start)
				continue
			}
			res.throttled++
			failures[e.object]++
			ceiling := time.Second << min(failures[e.object]-1, 6)
			heap.Push(q, simEvent{at: e.at.Add(s.random(rng, ceiling)), object: e.object})
			continue
		}
		if wait := l.Acquire("UpdateCase", key); wait > 0 {
			heap.Push(q, simEvent{at: e.at.Add(wait + s.random(rng, s.late)), object: e.object})
			continue
		}
		res.calls++
		extra := s.random(rng, s.jitter)
		accepted := service.AllowN(e.at.Add(s.latency/2), 1)
		heap.Push(q, simEvent{at: e.at.Add(s.latency + extra), object: e.object, answer: true, accepted: accepted, sent: e.at})
	}
	return res
}

// random returns a duration up to d, zero when d is.
func (quotaRun) random(rng *rand.Rand, d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(rng.Int64N(int64(d)))
}

// TestConvergesOnAQuota runs bench scenarios A and A2 in simulation: 600
// objects against a quota of 20 calls a second, the limiter told the quota
// (A) or a multiple of it (A2), every call and every second of the run
// counted, the first included. Where the bench runs (answers within a few
// milliseconds) the bench's goals hold. The slower the answers, the more
// calls are already in flight, at a rate known to be too high, when each
// throttle comes back: with 100 ms answers and a ceiling 20 times the quota,
// finding the quota costs about one call in six.
func TestConvergesOnAQuota(t *testing.T) {
	const quota, n = 20.0, 600
	tests := map[string]struct {
		ceiling       float64
		latency       time.Duration
		maxThrottled  float64
		maxTimeFactor float64
	}{
		"A, answers in 2ms":        {ceiling: quota, latency: 2 * time.Millisecond, maxThrottled: 0.01, maxTimeFactor: 1.05},
		"A, answers in 100ms":      {ceiling: quota, latency: 100 * time.Millisecond, maxThrottled: 0.01, maxTimeFactor: 1.05},
		"A2, answers in 2ms":       {ceiling: 5 * quota, latency: 2 * time.Millisecond, maxThrottled: 0.02, maxTimeFactor: 1.10},
		"A2, answers in 20ms":      {ceiling: 5 * quota, latency: 20 * time.Millisecond, maxThrottled: 0.02, maxTimeFactor: 1.10},
		"A2, answers in 100ms":     {ceiling: 5 * quota, latency: 100 * time.Millisecond, maxThrottled: 0.05, maxTimeFactor: 1.10},
		"20 x the quota, in 2ms":   {ceiling: 20 * quota, latency: 2 * time.Millisecond, maxThrottled: 0.02, maxTimeFactor: 1.10},
		"20 x the quota, in 20ms":  {ceiling: 20 * quota, latency: 20 * time.Millisecond, maxThrottled: 0.05, maxTimeFactor: 1.10},
		"20 x the quota, in 100ms": {ceiling: 20 * quota, latency: 100 * time.Millisecond, maxThrottled: 0.20, maxTimeFactor: 1.10},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			l, clock := newTestLimiter(map[string]Limit{"UpdateCase": {RPS: tc.ceiling, Burst: int(quota)}})
			res := quotaRun{n: n, quota: quota, created: 2 * time.Millisecond, latency: tc.latency}.run(l, clock)
			t.Logf("%s; T/(N/Q) %.3f; rate at the end %.2f/s", res, res.took.Seconds()/(n/quota), l.Rate("UpdateCase"))
			g.Expect(res.calls).To(BeNumerically(">=", n))
			g.Expect(float64(res.throttled) / float64(res.calls)).To(BeNumerically("<=", tc.maxThrottled))
			g.Expect(res.took.Seconds() / (n / quota)).To(BeNumerically("<=", tc.maxTimeFactor))
		})
	}
}

// TestConvergesWithBusyWorkers runs A2 with answers that come back out of
// order and objects taken up later than asked, as busy workers do, over
// several seeds. A late object must not send outside the limiter's plan:
// that once drove the rate down in a cascade of throttles to a tenth of the
// quota, for runs of 50 to 200 s instead of 30.
func TestConvergesWithBusyWorkers(t *testing.T) {
	const quota, n = 20.0, 600
	for _, late := range []time.Duration{50 * time.Millisecond, 200 * time.Millisecond} {
		t.Run(fmt.Sprintf("late up to %s", late), func(t *testing.T) {
			g := NewWithT(t)
			var shares []float64
			for seed := uint64(1); seed <= 9; seed++ {
				l, clock := newTestLimiter(map[string]Limit{"UpdateCase": {RPS: 5 * quota, Burst: int(quota)}})
				run := quotaRun{n: n, quota: quota, created: 2 * time.Millisecond, latency: 5 * time.Millisecond,
					jitter: 20 * time.Millisecond, late: late, seed: seed}
				res := run.run(l, clock)
				t.Logf("seed %d: %s; T/(N/Q) %.3f", seed, res, res.took.Seconds()/(n/quota))
				g.Expect(res.took.Seconds()/(n/quota)).To(BeNumerically("<=", 1.10), "seed %d", seed)
				shares = append(shares, float64(res.throttled)/float64(res.calls))
			}
			slices.Sort(shares)
			g.Expect(shares[len(shares)/2]).To(BeNumerically("<=", 0.035), "median share of throttled calls")
		})
	}
}
