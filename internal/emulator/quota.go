package emulator

import (
	"fmt"
	"maps"
	"math"
	"sync"
	"time"
)

// Quota is a token-bucket rate limit: RPS tokens a second, at most Burst
// saved up. An RPS of zero or less disables the limit.
type Quota struct {
	// RPS is the sustained rate, in requests per second.
	RPS float64 `json:"rps"`
	// Burst is how many requests may pass at once; below 1 it is taken as 1.
	Burst int `json:"burst"`
}

// defaultQuotas are the published Connect Cases quotas the emulator starts
// with; every other operation gets defaultQuota.
var defaultQuotas = map[string]Quota{
	"UpdateCase": {RPS: 2, Burst: 2},
	"GetCase":    {RPS: 4, Burst: 10},
}

// defaultQuota applies to operations without a quota of their own.
var defaultQuota = Quota{RPS: 10, Burst: 10}

// DefaultQuota returns the quota an operation has unless configured.
func DefaultQuota(operation string) Quota {
	if q, ok := defaultQuotas[operation]; ok {
		return q
	}
	return defaultQuota
}

// validate rejects quotas that cannot be applied.
func (q Quota) validate() error {
	if math.IsNaN(q.RPS) || math.IsInf(q.RPS, 0) {
		return fmt.Errorf("rps must be a finite number, got %v", q.RPS)
	}
	if q.Burst < 0 {
		return fmt.Errorf("burst must not be negative, got %d", q.Burst)
	}
	return nil
}

// quotaSet holds the quota of each operation and a bucket per principal and
// operation, as AWS meters each account separately.
type quotaSet struct {
	mu      sync.Mutex
	quotas  map[string]Quota
	buckets map[bucketKey]*bucket
}

// bucketKey names the bucket of one principal and operation.
type bucketKey struct{ accessKeyID, operation string }

// bucket is a token bucket; tokens refill continuously from last.
type bucket struct {
	tokens float64
	last   time.Time
}

// newQuotaSet returns the default quotas overridden by configured ones.
func newQuotaSet(configured map[string]Quota) (*quotaSet, error) {
	qs := &quotaSet{quotas: map[string]Quota{}, buckets: map[bucketKey]*bucket{}}
	for _, op := range Operations() {
		qs.quotas[op] = DefaultQuota(op)
	}
	for op, q := range configured {
		if err := qs.set(op, q); err != nil {
			return nil, err
		}
	}
	return qs, nil
}

// set replaces an operation's quota and empties its buckets' history.
func (qs *quotaSet) set(op string, q Quota) error {
	if _, ok := operationHandlers[op]; !ok {
		return fmt.Errorf("invalid quota: %q is not an operation the emulator serves", op)
	}
	if err := q.validate(); err != nil {
		return fmt.Errorf("invalid quota for %s: %w", op, err)
	}
	qs.mu.Lock()
	defer qs.mu.Unlock()
	qs.quotas[op] = q
	for k := range qs.buckets {
		if k.operation == op {
			delete(qs.buckets, k)
		}
	}
	return nil
}

// all returns a copy of the quotas in force.
func (qs *quotaSet) all() map[string]Quota {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	return maps.Clone(qs.quotas)
}

// refill forgets every bucket, so each starts full again.
func (qs *quotaSet) refill() {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	clear(qs.buckets)
}

// allow takes a token from the principal's bucket for the operation, and
// reports whether there was one.
func (qs *quotaSet) allow(accessKeyID, op string, now time.Time) bool {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	q := qs.quotas[op]
	if q.RPS <= 0 {
		return true
	}
	burst := float64(max(q.Burst, 1))
	key := bucketKey{accessKeyID, op}
	b, ok := qs.buckets[key]
	if !ok {
		b = &bucket{tokens: burst, last: now}
		qs.buckets[key] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(burst, b.tokens+elapsed*q.RPS)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
