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

// Adaptation constants. A throttle halves the rate (never below minRate) and
// keeps it under an estimate of the service's quota (see estimate). After
// calmAnswers answers that are not throttles, each further one raises the
// rate quickly back to that estimate; only after probeAfter without a
// throttle does the rate creep above it, slowly, toward the ceiling, so
// that a lowered quota stops throttling within seconds while a raised one
// is found again.
const (
	minRate       = 0.1
	decrease      = 0.5
	fastIncrease  = 0.05
	probeIncrease = 0.002
	safeFraction  = 0.95
	probeAfter    = 30 * time.Second
	calmAnswers   = 10
	// calmTime is how long after a decrease one accepted answer is enough
	// for the rate to rise again, however slow it is.
	calmTime = time.Second
	// minSample is the fewest answers whose accepted share estimates the
	// quota.
	minSample = 5
)

// Limiter is the client-side rate limiter of one AWS identity and region,
// shared by every worker: one token bucket per operation, whose rate adapts
// to the service's throttles (additive increase, multiplicative decrease)
// between a floor and the configured ceiling.
//
// Workers do not block on it for long: Acquire reserves a slot and tells the
// caller how long to wait, so that a worker can requeue its object for that
// time instead of holding a goroutine. A rate change moves every reserved
// slot, in order, to the new rate (see replan).
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
	// quota is the estimate of the service's quota since the rate was last
	// at its ceiling, 0 when none; target is the rate held below it.
	quota, target float64
	// decreased is when the rate was last lowered. A throttle of a call
	// sent before then was already answered by that decrease.
	decreased time.Time
	// calm counts the accepted answers to calls sent since the last
	// decrease: the rate rises again only after calmAnswers of them (or one,
	// calmTime after the decrease), since a saturated service still accepts
	// its quota's worth of calls at a rate above it.
	calm int
	// answered counts the answers since the rate last changed (to calls
	// sent since the last decrease), throttles the throttles among them.
	answered, throttles int
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
// otherwise how long to wait before asking again: the slot stays reserved
// for key. A wait of more than recheckAfter is halved, so that a caller far
// back in line asks again before its slot and takes the earlier one a rate
// increase gives it; each rate change moves the reserved slots, in their
// order, to the new rate.
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
			return recheck(wait)
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
	return recheck(wait)
}

// recheckAfter is the longest wait Acquire hands out whole.
const recheckAfter = 2 * time.Second

// recheck is the wait handed out for a slot wait away.
func recheck(wait time.Duration) time.Duration {
	if wait > recheckAfter {
		return wait / 2
	}
	return wait
}

// Forget drops the slot reserved for key, when its object is gone.
func (l *Limiter) Forget(operation, key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.slots, operation+"/"+key)
}

// Now returns the limiter's time, which Observe takes as a call's sending
// time.
func (l *Limiter) Now() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.now()
}

// Observe adapts the rate of operation to the answer of a call sent at sent
// (Now, just before the call): a throttle lowers it, any other answer
// (errors included) raises it back toward the ceiling. Counting only
// successes would let a run of failing objects hold the rate down and
// starve the others. The answer of a call sent before the last decrease
// changes nothing: it tells of the old rate. Calls in flight then are
// throttled too and must not divide the rate again, and those accepted must
// not raise it back before the new rate has been tried; a throttle of a
// call sent since shows the new rate is still too high.
func (l *Limiter) Observe(operation string, sent time.Time, throttled bool) {
	if l.disabled {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.op(operation)
	now := l.now()
	if sent.Before(b.decreased) {
		return
	}
	b.answered++
	if throttled {
		b.throttles++
	} else {
		b.calm++
	}
	before := b.current
	switch {
	case throttled && b.quota == 0 && b.current >= b.ceiling && now.Sub(b.decreased) >= probeAfter:
		// A rare throttle at the configured ceiling is taken for timing
		// jitter against a quota equal to the ceiling: a gentle step down,
		// and no estimate. A throttle of a call sent after it shows the
		// quota is lower.
		b.current = safeFraction * b.ceiling
		b.decreased = now
	case throttled:
		b.quota, b.target = b.estimate()
		b.current = max(minRate, min(b.current*decrease, b.target))
		b.decreased = now
	case b.calm <= calmAnswers && now.Sub(b.decreased) < calmTime:
		return
	case b.quota == 0:
		b.current = min(b.ceiling, b.current+fastIncrease*b.ceiling)
	case b.current < b.target:
		b.current = min(b.target, b.current+fastIncrease*b.quota)
	case now.Sub(b.decreased) >= probeAfter:
		b.current = min(b.ceiling, b.current+probeIncrease*b.ceiling)
		if b.current >= b.ceiling {
			b.quota, b.target = 0, 0
		}
	default:
		return
	}
	if b.current < before {
		b.calm = 0
	}
	if b.current != before {
		b.answered, b.throttles = 0, 0
		l.replan(operation, b, now)
	}
}

// estimate returns, after a throttle at the current rate, the estimate of
// the service's quota and the rate to hold below it. The quota is at most
// that rate and any earlier estimate, and the rate to hold is safeFraction
// of it: a rate that was throttled is only an upper bound. Once minSample
// answers at the current rate tell, the share of them the service accepted
// measures the quota (a saturated service accepts its quota's worth), and
// that measure is the rate to hold when it is lower. The share is smoothed
// by one accepted answer, and the measure never falls below a quarter of
// the current rate: a few throttles in a row, when calls bunch up, must not
// take the rate to its floor.
func (b *adaptiveBucket) estimate() (quota, target float64) {
	quota = b.current
	if b.quota > 0 {
		quota = min(quota, b.quota)
	}
	target = safeFraction * quota
	if b.answered >= minSample {
		share := float64(b.answered-b.throttles+1) / float64(b.answered+1)
		measured := max(minRate, b.current*max(share, decrease*decrease))
		if measured < target {
			quota, target = measured, measured
		}
	}
	return quota, target
}

// replan puts b at its new rate from now: a new, empty bucket (after a
// decrease the service's is empty too; after an increase the slots already
// reserved come first), and every slot reserved at the old rate moved, in
// its order, to the new one, including those whose time has passed while
// their holders were busy: a late holder sending at once would add a call
// the new plan does not count. A decrease thus sends nothing more at a rate
// known to be throttled, and an increase serves the callers in line sooner.
func (l *Limiter) replan(operation string, b *adaptiveBucket, now time.Time) {
	burst := scaledBurst(b)
	b.bucket = rate.NewLimiter(rate.Limit(b.current), burst)
	b.bucket.ReserveN(now, burst)
	prefix := operation + "/"
	var waiting []string
	for key := range l.slots {
		if strings.HasPrefix(key, prefix) {
			waiting = append(waiting, key)
		}
	}
	sort.Slice(waiting, func(i, j int) bool { return l.slots[waiting[i]].Before(l.slots[waiting[j]]) })
	for _, key := range waiting {
		l.slots[key] = now.Add(b.bucket.ReserveN(now, 1).DelayFrom(now))
	}
}

// scaledBurst is b's burst at its current rate: it shrinks with the rate,
// since a bucket that refills slowly but still holds its full burst would
// send that burst at once after a quiet spell, and be throttled again.
func scaledBurst(b *adaptiveBucket) int {
	return max(1, int(float64(b.burst)*b.current/b.ceiling))
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
