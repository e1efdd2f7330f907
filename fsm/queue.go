package fsm

import (
	"time"

	"github.com/rinhq/rin/journal"
)

// The ready queues hold the received jobs waiting for a batch: per
// destination, in the order they became ready, plus a set of jobs whose
// retry is not yet due. plan takes batches from the heads, so its cost is
// that of the batches it starts, never of the whole backlog: with 10,000 jobs
// pending, a plan that starts nothing touches a few jobs, not 10,000.
//
// Entries are ids; the job itself is in e.jobs. A queued id whose job is no
// longer received (or is gone) is dropped when plan reaches it.

// enqueue makes a received job available to plan. Callers hold e.mu and
// call it whenever a job becomes received outside a batch: admitted,
// resumed, requeued, or back from a failed attempt once its batch is over.
func (e *Engine) enqueue(j *journal.Job, now time.Time) {
	if j.State != journal.Received || e.queued[j.ID] || e.inflight[j.ID] {
		return
	}
	e.queued[j.ID] = true
	if j.NextAttempt.After(now) {
		e.later[j.ID] = true
		return
	}
	d := destinationOf(j)
	e.ready[d] = append(e.ready[d], j.ID)
	e.pace.joinedNow(d, now)
}

// promote moves retries that have come due into their queues and returns
// the earliest retry still waiting (zero if none). Callers hold e.mu.
func (e *Engine) promote(now time.Time) time.Time {
	var next time.Time
	for id := range e.later {
		j := e.jobs[id]
		if j == nil || j.State != journal.Received {
			delete(e.later, id)
			delete(e.queued, id)
			continue
		}
		if j.NextAttempt.After(now) {
			if next.IsZero() || j.NextAttempt.Before(next) {
				next = j.NextAttempt
			}
			continue
		}
		delete(e.later, id)
		d := destinationOf(j)
		e.ready[d] = append(e.ready[d], id)
		e.pace.joinedNow(d, now)
	}
	return next
}

// head drops the stale entries at the front of d's queue and returns the
// first live job, or nil when the queue is empty. Callers hold e.mu.
func (e *Engine) head(d Destination) *journal.Job {
	q := e.ready[d]
	for len(q) > 0 {
		if j := e.live(q[0]); j != nil {
			e.ready[d] = q
			return j
		}
		delete(e.queued, q[0])
		q = q[1:]
	}
	delete(e.ready, d)
	e.pace.forget(d)
	return nil
}

// live returns the job of a queued id if it still waits for a batch.
func (e *Engine) live(id string) *journal.Job {
	j := e.jobs[id]
	if j == nil || j.State != journal.Received || e.inflight[id] {
		return nil
	}
	return j
}
