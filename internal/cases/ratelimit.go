package cases

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limit is the client-side rate of one AWS operation.
type Limit struct {
	// RPS is the most calls per second.
	RPS float64
	// Burst is the most calls at once.
	Burst int
}

// DefaultLimits follow the published Connect Cases quotas per account and
// region: UpdateCase 2 per second (burst 2), GetCase 4 (burst 10), and 10
// for the others.
var DefaultLimits = map[string]Limit{
	"UpdateCase": {RPS: 2, Burst: 2},
	"GetCase":    {RPS: 4, Burst: 10},
}

// defaultLimit is the limit of operations not in DefaultLimits.
var defaultLimit = Limit{RPS: 10, Burst: 10}

// Adaptation constants. A throttle halves the rate (never below minRate, at
// most once per decreaseEvery), lowers the estimate of the service's quota
// to the lower of the rate that was throttled and the rate of calls the
// service accepted over the last acceptedWindow, and keeps the rate under
// safeFraction of that estimate. Every other answer raises the rate
// back quickly to safeFraction of that estimate; only after probeAfter
// without a throttle does the rate creep above it, slowly, toward the
// ceiling, so that a lowered quota stops throttling within seconds while a
// raised one is found again.
const (
	minRate       = 0.1
	decrease      = 0.5
	fastIncrease  = 0.05
	probeIncrease = 0.002
	safeFraction  = 0.9
	// decreaseEvery is the least time between two decreases: the calls
	// in flight when the first throttle came back are throttled too, and
	// must not divide the rate again.
	decreaseEvery = time.Second
	probeAfter    = 30 * time.Second
	// acceptedWindow is how far back the accepted calls are counted. While
	// the service throttles, it accepts calls at its quota: counted over a
	// window of a few of its refills, they measure the quota even when the
	// limiter started far above it.
	acceptedWindow = 2 * time.Second
)

// Limiter is the client-side rate limiter of one AWS identity and region,
// shared by every worker: one token bucket per operation, whose rate adapts
// to the service's throttles (additive increase, multiplicative decrease)
// between a floor and the configured ceiling.
//
// Workers do not block on it for long: Acquire reserves a slot and tells the
// caller how long to wait, so that a worker can requeue its object for that
// time instead of holding a goroutine.
type Limiter struct {
	mu       sync.Mutex
	limits   map[string]Limit
	ops      map[string]*adaptiveBucket
	slots    map[string]time.Time
	now      func() time.Time
	disabled bool
}

// adaptiveBucket is the state of one operation.
type adaptiveBucket struct {
	bucket  *rate.Limiter
	burst   int
	ceiling float64
	current float64
	// quota is the estimate of the service's quota: the lowest rate that
	// was throttled since the rate was last at its ceiling, 0 when none.
	quota     float64
	decreased time.Time
	// accepted are the times of the answers that were not throttles, within
	// acceptedWindow; since is when the bucket began counting them.
	accepted []time.Time
	since    time.Time
}

// acceptedRate returns the calls per second the service accepted over the
// last acceptedWindow (or since counting began, if later), 0 when none.
func (b *adaptiveBucket) acceptedRate(now time.Time) float64 {
	cut := now.Add(-acceptedWindow)
	i := 0
	for i < len(b.accepted) && !b.accepted[i].After(cut) {
		i++
	}
	b.accepted = b.accepted[i:]
	span := min(acceptedWindow, now.Sub(b.since))
	if len(b.accepted) == 0 || span <= 0 {
		return 0
	}
	return float64(len(b.accepted)) / span.Seconds()
}

// NewLimiter returns a limiter with the given per-operation ceilings, over
// DefaultLimits.
func NewLimiter(limits map[string]Limit) *Limiter {
	merged := map[string]Limit{}
	for op, l := range DefaultLimits {
		merged[op] = l
	}
	for op, l := range limits {
		merged[op] = l
	}
	return &Limiter{limits: merged, ops: map[string]*adaptiveBucket{}, slots: map[string]time.Time{}, now: time.Now}
}

// Unlimited returns a limiter that never waits, for configurations that rely
// on the service's throttling alone.
func Unlimited() *Limiter {
	l := NewLimiter(nil)
	l.disabled = true
	return l
}

// op returns the bucket of an operation, creating it at its ceiling.
func (l *Limiter) op(name string) *adaptiveBucket {
	b, ok := l.ops[name]
	if !ok {
		lim, found := l.limits[name]
		if !found {
			lim = defaultLimit
		}
		burst := usableBurst(lim.Burst)
		b = &adaptiveBucket{bucket: rate.NewLimiter(rate.Limit(lim.RPS), burst), burst: burst, ceiling: lim.RPS, current: lim.RPS}
		l.ops[name] = b
	}
	return b
}

// usableBurst is the part of the configured burst the limiter spends. It
// keeps a tenth of it (at least one call, unless the burst is one) unused:
// calls paced exactly at the service's rate arrive with some jitter, and the
// service's bucket, kept from running dry, absorbs it instead of throttling.
func usableBurst(burst int) int {
	if burst <= 1 {
		return 1
	}
	return burst - max(1, burst/10)
}

// Acquire takes a call slot of operation for the caller identified by key
// (an object's namespace/name). It returns zero when the call may go now;
// otherwise the wait until the slot reserved for key, which stays reserved
// for that key: the caller waits (or requeues) for that long and calls
// Acquire again, which then returns zero.
func (l *Limiter) Acquire(operation, key string) time.Duration {
	if l.disabled {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	slotKey := operation + "/" + key
	if at, ok := l.slots[slotKey]; ok {
		if wait := at.Sub(now); wait > 0 {
			return wait
		}
		delete(l.slots, slotKey)
		return 0
	}
	r := l.op(operation).bucket.ReserveN(now, 1)
	if !r.OK() {
		return time.Second
	}
	wait := r.DelayFrom(now)
	if wait > 0 {
		l.slots[slotKey] = now.Add(wait)
	}
	return wait
}

// Forget drops the slot reserved for key, when its object is gone.
func (l *Limiter) Forget(operation, key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.slots, operation+"/"+key)
}

// Observe adapts the rate of operation to an answer: a throttle lowers it,
// any other answer (errors included) raises it back toward the ceiling.
// Counting only successes would let a run of failing objects hold the rate
// down and starve the others.
func (l *Limiter) Observe(operation string, throttled bool) {
	if l.disabled {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.op(operation)
	now := l.now()
	if b.since.IsZero() {
		b.since = now
	}
	if !throttled {
		b.accepted = append(b.accepted, now)
	}
	switch {
	case throttled && now.Sub(b.decreased) < decreaseEvery:
		return
	case throttled && b.quota == 0 && b.current >= b.ceiling && now.Sub(b.decreased) >= probeAfter:
		// A rare throttle at the configured ceiling is taken for timing
		// jitter against a quota equal to the ceiling: a gentle step down,
		// and no estimate. Another throttle soon after shows the quota is
		// lower.
		b.decreased = now
		b.current = safeFraction * b.ceiling
	case throttled:
		b.decreased = now
		estimate := b.current
		if accepted := b.acceptedRate(now); accepted > 0 {
			estimate = min(estimate, accepted)
		}
		if b.quota == 0 || estimate < b.quota {
			b.quota = estimate
		}
		b.current = max(minRate, min(b.current*decrease, safeFraction*b.quota))
	case b.quota == 0:
		b.current = min(b.ceiling, b.current+fastIncrease*b.ceiling)
	case b.current < safeFraction*b.quota:
		b.current = min(safeFraction*b.quota, b.current+fastIncrease*b.ceiling)
	case now.Sub(b.decreased) >= probeAfter:
		b.current = min(b.ceiling, b.current+probeIncrease*b.ceiling)
		if b.current >= b.ceiling {
			b.quota = 0
		}
	}
	b.bucket.SetLimitAt(now, rate.Limit(b.current))
	// The burst shrinks with the rate: a bucket that refills slowly but
	// still holds its full burst would send that burst at once after a
	// quiet spell, and be throttled again.
	b.bucket.SetBurstAt(now, max(1, int(float64(b.burst)*b.current/b.ceiling)))
}

// Rate returns the current rate of operation, in calls per second.
func (l *Limiter) Rate(operation string) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.op(operation).current
}

// maxBurst is the largest burst the flags take.
const maxBurst = math.MaxInt32

// ParseLimits reads per-operation values such as "UpdateCase=2,GetCase=4"
// from the --aws-rps and --aws-burst flags into limits, over DefaultLimits.
// A rate must be a finite number above 0, a burst a whole number from 1 to
// 2147483647; NaN and infinities are refused. Errors name the flag.
func ParseLimits(rps, burst string) (map[string]Limit, error) {
	out := map[string]Limit{}
	for op, l := range DefaultLimits {
		out[op] = l
	}
	get := func(op string) Limit {
		if l, ok := out[op]; ok {
			return l
		}
		return defaultLimit
	}
	err := parseLimitList("--aws-rps", rps, "a finite number above 0", func(v float64) bool {
		return !math.IsNaN(v) && !math.IsInf(v, 0) && v > 0
	}, func(op string, v float64) { l := get(op); l.RPS = v; out[op] = l })
	if err != nil {
		return nil, err
	}
	err = parseLimitList("--aws-burst", burst, "a whole number from 1 to 2147483647", func(v float64) bool {
		return v >= 1 && v <= maxBurst && v == math.Trunc(v)
	}, func(op string, v float64) { l := get(op); l.Burst = int(v); out[op] = l })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// parseLimitList parses the OPERATION=NUMBER items of one flag, checks each
// number with valid and hands it to apply.
func parseLimitList(flag, spec, want string, valid func(float64) bool, apply func(op string, v float64)) error {
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		op, val, ok := strings.Cut(item, "=")
		op = strings.TrimSpace(op)
		v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if !ok || op == "" || err != nil || !valid(v) {
			return fmt.Errorf("invalid %s item %q: want OPERATION=VALUE, VALUE %s", flag, item, want)
		}
		apply(op, v)
	}
	return nil
}

// FormatLimits renders limits as "Op=rps/burst" pairs, for logs.
func FormatLimits(limits map[string]Limit) string {
	ops := make([]string, 0, len(limits))
	for op := range limits {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	parts := make([]string, 0, len(ops))
	for _, op := range ops {
		parts = append(parts, fmt.Sprintf("%s=%g/%d", op, limits[op].RPS, limits[op].Burst))
	}
	return strings.Join(parts, ",")
}
