package cases

import (
	"fmt"
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

	sent := l.Now()
	clock.advance(10 * time.Millisecond)
	l.Observe("UpdateCase", sent, true)
	g.Expect(l.Rate("UpdateCase")).To(Equal(19.0), "a first throttle at the ceiling is a gentle step")
	l.Observe("UpdateCase", sent, true)
	g.Expect(l.Rate("UpdateCase")).To(Equal(19.0), "throttles of calls sent before the step change nothing")
	// Back at the ceiling, the service accepting 20 calls a second, another
	// throttle soon after is not jitter.
	for range 20 {
		clock.advance(50 * time.Millisecond)
		l.Observe("UpdateCase", l.Now(), false)
	}
	g.Expect(l.Rate("UpdateCase")).To(Equal(20.0))
	l.Observe("UpdateCase", l.Now(), true)
	g.Expect(l.Rate("UpdateCase")).To(Equal(10.0), "a throttle soon after halves the rate")
	// Each throttle of a call sent since the last decrease halves it again,
	// however soon it comes.
	for _, want := range []float64{5, 2.5, 1.25} {
		sent := l.Now()
		clock.advance(time.Millisecond)
		l.Observe("UpdateCase", sent, true)
		g.Expect(l.Rate("UpdateCase")).To(Equal(want))
	}

	// Any answer but a throttle raises it quickly to 95% of the lowest rate
	// that was throttled (2.5), and no further while throttles are recent.
	for range 20 {
		clock.advance(100 * time.Millisecond)
		l.Observe("UpdateCase", l.Now(), false)
	}
	g.Expect(l.Rate("UpdateCase")).To(BeNumerically("~", 2.375, 1e-9))

	// After a quiet spell it probes upward, back to the ceiling.
	clock.advance(probeAfter)
	for range 1000 {
		clock.advance(100 * time.Millisecond)
		l.Observe("UpdateCase", l.Now(), false)
	}
	g.Expect(l.Rate("UpdateCase")).To(Equal(20.0))
	g.Expect(l.ops["UpdateCase"].quota).To(BeZero(), "at the ceiling the quota estimate is dropped")
}

func TestARateChangeMovesTheReservedSlots(t *testing.T) {
	g := NewWithT(t)
	l, clock := newTestLimiter(map[string]Limit{"UpdateCase": {RPS: 10, Burst: 1}})
	g.Expect(l.Acquire("UpdateCase", "a")).To(BeZero())
	sent := l.Now()
	// b and c hold slots 100 ms apart, at the ceiling.
	g.Expect(l.Acquire("UpdateCase", "b")).To(Equal(100 * time.Millisecond))
	g.Expect(l.Acquire("UpdateCase", "c")).To(Equal(200 * time.Millisecond))
	g.Expect(l.Acquire("GetCase", "b")).To(BeZero())
	g.Expect(l.Acquire("GetCase", "b")).To(BeZero(), "the other operation's bucket is not empty yet")

	// a is throttled twice over (a gentle step, then a decrease): b and c
	// keep their order, at the new rate of 4.75 a second.
	clock.advance(5 * time.Millisecond)
	l.Observe("UpdateCase", sent, true)
	l.Observe("UpdateCase", l.Now(), true)
	g.Expect(l.Rate("UpdateCase")).To(Equal(4.75))
	clock.advance(100 * time.Millisecond)
	g.Expect(l.Acquire("UpdateCase", "b")).To(BeNumerically("~", 110*time.Millisecond, time.Millisecond),
		"b's slot moved to the new rate")
	g.Expect(l.Acquire("UpdateCase", "c")).To(BeNumerically("~", 321*time.Millisecond, time.Millisecond))
}

func TestALongWaitIsHalved(t *testing.T) {
	g := NewWithT(t)
	l, clock := newTestLimiter(map[string]Limit{"UpdateCase": {RPS: 1, Burst: 1}})
	g.Expect(l.Acquire("UpdateCase", "a")).To(BeZero())
	for i := 1; i <= 4; i++ {
		g.Expect(l.Acquire("UpdateCase", fmt.Sprint(i))).To(Equal(recheck(time.Duration(i) * time.Second)))
	}
	// The slot 4 s away is handed out as a wait of 2 s: asked again then,
	// it is 2 s away, and handed out whole.
	g.Expect(l.Acquire("UpdateCase", "4")).To(Equal(2 * time.Second))
	clock.advance(2 * time.Second)
	g.Expect(l.Acquire("UpdateCase", "4")).To(Equal(2 * time.Second))
	clock.advance(2 * time.Second)
	g.Expect(l.Acquire("UpdateCase", "4")).To(BeZero())
}

func TestErrorsCountAsRecovery(t *testing.T) {
	g := NewWithT(t)
	l, clock := newTestLimiter(map[string]Limit{"UpdateCase": {RPS: 2, Burst: 2}})
	l.Observe("UpdateCase", l.Now(), true)
	clock.advance(time.Second)
	l.Observe("UpdateCase", l.Now(), true)
	g.Expect(l.Rate("UpdateCase")).To(Equal(0.95))
	// Failed answers that are not throttles (validation errors, not found)
	// raise the rate like successes do, once calmAnswers of them show the
	// lower rate holds.
	for range calmAnswers {
		l.Observe("UpdateCase", l.Now(), false)
	}
	g.Expect(l.Rate("UpdateCase")).To(Equal(0.95))
	for range 10 {
		l.Observe("UpdateCase", l.Now(), false)
	}
	g.Expect(l.Rate("UpdateCase")).To(BeNumerically("~", 1.805, 1e-9))
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
