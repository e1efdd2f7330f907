package fsm

import (
	"time"

	"github.com/cenkalti/backoff/v4"
)

// breaker holds one scope's jobs while an environment fault lasts.
//
// Without it every pending job would send its own COPY at each retry, which
// during a Redshift resize or an IAM policy rollout (minutes to hours) means
// a storm of doomed COPYs. With it, a scope that fails is "open": only one
// batch of one job at a time probes it, at capped exponential intervals; the
// first success closes it and the backlog drains at full speed.
type breaker struct {
	open    bool
	probing bool      // a probe batch is in flight
	probeAt time.Time // when the next probe may start
	bo      *backoff.ExponentialBackOff
	fails   int
	since   time.Time // when it opened
	lastErr string
}

func newBreaker(r RetryOptions) *breaker {
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval = r.InitialInterval
	bo.MaxInterval = r.MaxInterval
	bo.Multiplier = r.Multiplier
	bo.MaxElapsedTime = 0 // the breaker never gives up: nothing is parked for the environment
	bo.Reset()
	return &breaker{bo: bo}
}

// allow reports whether a batch may start now, and whether it is a probe.
func (b *breaker) allow(now time.Time) (ok, probe bool) {
	if !b.open {
		return true, false
	}
	if b.probing || now.Before(b.probeAt) {
		return false, false
	}
	return true, true
}

// failure records a failure and schedules the next probe.
func (b *breaker) failure(now time.Time, err error) time.Duration {
	if !b.open {
		b.since = now
	}
	b.fails++
	b.open = true
	b.probing = false
	b.lastErr = err.Error()
	d := b.bo.NextBackOff()
	b.probeAt = now.Add(d)
	return d
}

// success closes the breaker.
func (b *breaker) success() {
	b.open, b.probing, b.fails = false, false, 0
	b.since, b.lastErr = time.Time{}, ""
	b.bo.Reset()
}
