package cases

import (
	"golang.org/x/time/rate"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// fakeClock is a settable clock for the limiter.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newTestLimiter(limits map[string]Limit) (*Limiter, *fakeClock) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := NewLimiter(limits)
	l.now = clock.now
	return l, clock
}

func TestAcquireReservesSlotsPerKey(t *testing.T) {
	g := NewWithT(t)
	l, clock := newTestLimiter(map[string]Limit{"UpdateCase": {RPS: 2, Burst: 3}})

	// A burst of 3 leaves one call of headroom: two calls go at once.
	g.Expect(l.Acquire("UpdateCase", "a")).To(BeZero())
	g.Expect(l.Acquire("UpdateCase", "b")).To(BeZero())
	// The bucket is empty: c and d get slots 500ms apart.
	g.Expect(l.Acquire("UpdateCase", "c")).To(Equal(500 * time.Millisecond))
	g.Expect(l.Acquire("UpdateCase", "d")).To(Equal(time.Second))
	// Asking again before the slot returns the remaining wait, without
	// taking another token.
	clock.advance(200 * time.Millisecond)
	g.Expect(l.Acquire("UpdateCase", "c")).To(Equal(300 * time.Millisecond))
	clock.advance(300 * time.Millisecond)
	g.Expect(l.Acquire("UpdateCase", "c")).To(BeZero())
	// Other operations have their own buckets.
	g.Expect(l.Acquire("GetCase", "c")).To(BeZero())
	// A forgotten slot is given up.
	l.Forget("UpdateCase", "d")
	g.Expect(l.Acquire("UpdateCase", "d")).To(BeNumerically(">", 0))
}

func TestUsableBurstKeepsHeadroom(t *testing.T) {
	g := NewWithT(t)
	for burst, want := range map[int]int{0: 1, 1: 1, 2: 1, 10: 9, 20: 18, 100: 90} {
		g.Expect(usableBurst(burst)).To(Equal(want), "burst %d", burst)
	}
}

func TestObserveAdaptsTheRate(t *testing.T) {
	g := NewWithT(t)
	l, clock := newTestLimiter(map[string]Limit{"UpdateCase": {RPS: 20, Burst: 20}})

	l.Observe("UpdateCase", true)
	g.Expect(l.Rate("UpdateCase")).To(Equal(18.0), "a first throttle at the ceiling is a gentle step")
	l.Observe("UpdateCase", true)
	g.Expect(l.Rate("UpdateCase")).To(Equal(18.0), "throttles of calls already in flight change nothing")
	// Back at the ceiling, the service accepting 20 calls a second, another
	// throttle soon after is not jitter.
	for range 20 {
		clock.advance(50 * time.Millisecond)
		l.Observe("UpdateCase", false)
	}
	g.Expect(l.Rate("UpdateCase")).To(Equal(20.0))
	l.Observe("UpdateCase", true)
	g.Expect(l.Rate("UpdateCase")).To(Equal(10.0), "a second throttle halves the rate")
	clock.advance(time.Second)
	l.Observe("UpdateCase", true)
	g.Expect(l.Rate("UpdateCase")).To(Equal(5.0))
	clock.advance(time.Second)
	l.Observe("UpdateCase", true)
	g.Expect(l.Rate("UpdateCase")).To(Equal(2.5))
	clock.advance(time.Second)
	l.Observe("UpdateCase", true)
	g.Expect(l.Rate("UpdateCase")).To(Equal(1.25))

	// Any answer but a throttle raises it quickly to 90% of the lowest rate
	// that was throttled (2.5), and no further while throttles are recent.
	for range 20 {
		clock.advance(100 * time.Millisecond)
		l.Observe("UpdateCase", false)
	}
	g.Expect(l.Rate("UpdateCase")).To(BeNumerically("~", 2.25, 1e-9))

	// After a quiet spell it probes upward, back to the ceiling.
	clock.advance(probeAfter)
	for range 1000 {
		clock.advance(100 * time.Millisecond)
		l.Observe("UpdateCase", false)
	}
	g.Expect(l.Rate("UpdateCase")).To(Equal(20.0))
	g.Expect(l.ops["UpdateCase"].quota).To(BeZero(), "at the ceiling the quota estimate is dropped")
}

func TestErrorsCountAsRecovery(t *testing.T) {
	g := NewWithT(t)
	l, clock := newTestLimiter(map[string]Limit{"UpdateCase": {RPS: 2, Burst: 2}})
	l.Observe("UpdateCase", true)
	clock.advance(time.Second)
	l.Observe("UpdateCase", true)
	g.Expect(l.Rate("UpdateCase")).To(Equal(0.9))
	// Failed answers that are not throttles (validation errors, not found)
	// raise the rate like successes do.
	for range 10 {
		l.Observe("UpdateCase", false)
	}
	g.Expect(l.Rate("UpdateCase")).To(BeNumerically("~", 1.62, 1e-9))
}

func TestUnlimitedNeverWaits(t *testing.T) {
	g := NewWithT(t)
	l := Unlimited()
	for range 100 {
		g.Expect(l.Acquire("UpdateCase", "a")).To(BeZero())
	}
}

func TestParseLimits(t *testing.T) {
	tests := map[string]struct {
		rps, burst string
		want       map[string]Limit
		wantErr    string
	}{
		"defaults": {want: map[string]Limit{"UpdateCase": {2, 2}, "GetCase": {4, 10}}},
		"override and add": {rps: "UpdateCase=20,ListFields=5", burst: "UpdateCase=20",
			want: map[string]Limit{"UpdateCase": {20, 20}, "GetCase": {4, 10}, "ListFields": {5, 10}}},
		"missing value":       {rps: "UpdateCase=", wantErr: "--aws-rps"},
		"negative burst":      {burst: "UpdateCase=-1", wantErr: "--aws-burst"},
		"no operation":        {rps: "=3", wantErr: "--aws-rps"},
		"NaN rate":            {rps: "UpdateCase=NaN", wantErr: "--aws-rps"},
		"infinite rate":       {rps: "UpdateCase=Inf", wantErr: "--aws-rps"},
		"negative infinity":   {rps: "UpdateCase=-Inf", wantErr: "--aws-rps"},
		"negative rate":       {rps: "UpdateCase=-2", wantErr: "--aws-rps"},
		"zero rate":           {rps: "UpdateCase=0", wantErr: "--aws-rps"},
		"NaN burst":           {burst: "UpdateCase=NaN", wantErr: "--aws-burst"},
		"infinite burst":      {burst: "UpdateCase=+Inf", wantErr: "--aws-burst"},
		"fractional burst":    {burst: "UpdateCase=2.5", wantErr: "--aws-burst"},
		"burst below one":     {burst: "UpdateCase=0.5", wantErr: "--aws-burst"},
		"burst beyond an int": {burst: "UpdateCase=1e300", wantErr: "--aws-burst"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := ParseLimits(tc.rps, tc.burst)
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

// TestFindsAnUnknownQuota runs the limiter, told 5 times the quota, against
// a simulated service that accepts 20 calls a second and throttles the rest,
// with calls sent as fast as the limiter lets them. Within two seconds the
// limiter finds the quota: after that, at most 2% of the calls are
// throttled, and the calls that go through keep close to the quota.
func TestFindsAnUnknownQuota(t *testing.T) {
	g := NewWithT(t)
	const quota = 20.0
	l, clock := newTestLimiter(map[string]Limit{"UpdateCase": {RPS: 5 * quota, Burst: int(quota)}})
	start := clock.now()
	service := rate.NewLimiter(rate.Limit(quota), int(quota))
	calls, throttled, accepted := 0, 0, 0
	for step := 0; step < 20000; step++ { // 20 s in 1 ms steps
		clock.advance(time.Millisecond)
		now := clock.now()
		for l.op("UpdateCase").bucket.AllowN(now, 1) {
			ok := service.AllowN(now, 1)
			l.Observe("UpdateCase", !ok)
			if now.Sub(start) < 2*time.Second {
				continue
			}
			calls++
			if ok {
				accepted++
			} else {
				throttled++
			}
		}
	}
	t.Logf("after the first 2 s: %d calls, %d throttled, %.1f accepted/s; rate %.2f/s", calls, throttled, float64(accepted)/18, l.Rate("UpdateCase"))
	g.Expect(float64(throttled) / float64(calls)).To(BeNumerically("<=", 0.02))
	g.Expect(float64(accepted) / 18).To(BeNumerically(">=", 0.85*quota))
}
