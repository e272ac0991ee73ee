package controllers

import (
	"math/rand/v2"
	"time"
)

// fullJitterBackoff returns the wait before attempt number failures+1 of a
// transient failure: a uniform draw between base and an exponential ceiling,
// base*2^(failures-1), capped at limit. The draw spreads the retries of many
// objects throttled at once, so that they do not come back together.
func fullJitterBackoff(failures int32, base, limit time.Duration) time.Duration {
	if limit < base {
		limit = base
	}
	ceiling := base
	for i := int32(1); i < failures && ceiling < limit; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, limit)
	if ceiling <= base {
		return base
	}
	return base + rand.N(ceiling-base+1)
}

// jitter spreads d by up to 10% either way.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	spread := d / 10
	return d - spread + rand.N(2*spread+1)
}
