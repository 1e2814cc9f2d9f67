package query

import (
	"math"
	"sync"
	"time"
)

// limiter is a set of token buckets, one per caller (client address or API
// key). It lives in memory, per process: a burst spread over several query
// processes gets through each of them, which the daily quota in PostgreSQL
// bounds anyway.
type limiter struct {
	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
	// full is when the bucket will be full again if untouched: after that
	// it is indistinguishable from a new one and may be forgotten.
	full time.Time
}

func newLimiter() *limiter { return &limiter{buckets: map[string]*bucket{}} }

// sweepEvery bounds how often idle buckets are dropped, which keeps memory
// proportional to the callers of the last few minutes, not of all time.
const sweepEvery = time.Minute

// take spends one token of caller's bucket (perMinute tokens a minute, at
// most burst stored). When none is left it returns false and how long until
// the next token.
func (l *limiter) take(caller string, perMinute, burst int, now time.Time) (bool, time.Duration) {
	if perMinute <= 0 || burst <= 0 {
		return false, time.Minute
	}
	rate := float64(perMinute) / 60 // tokens per second
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= sweepEvery {
		for k, b := range l.buckets {
			if !now.Before(b.full) {
				delete(l.buckets, k)
			}
		}
		l.lastSweep = now
	}
	b, ok := l.buckets[caller]
	if !ok {
		b = &bucket{tokens: float64(burst), last: now}
		l.buckets[caller] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(float64(burst), b.tokens+elapsed*rate)
		b.last = now
	}
	if b.tokens < 1 {
		wait := time.Duration((1 - b.tokens) / rate * float64(time.Second))
		return false, wait
	}
	b.tokens--
	b.full = now.Add(time.Duration((float64(burst) - b.tokens) / rate * float64(time.Second)))
	return true, 0
}

// size is the number of buckets held.
func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// retryAfter is the Retry-After value for a wait: whole seconds, rounded
// up, at least 1, so that a client that obeys it is served.
func retryAfter(d time.Duration) int {
	s := int(math.Ceil(d.Seconds()))
	return max(s, 1)
}
