package fsm

import (
	"iter"
	"maps"
	"time"

	"github.com/rinhq/rin/journal"
)

// The ready queues hold the received jobs waiting for a batch: per
// destination, in the order they became ready, plus a set of jobs whose
// retry is not yet due. plan takes batches from the heads, so its cost is
// that of the batches it starts, never of the whole backlog: with 10,000 jobs
// pending, a plan that starts nothing touches a few jobs, not 10,000. Each
// list also keeps its length and the bytes of its entries, upper bounds of
// what a batch of the destination can carry, so that plan need not walk a
// batch that can be neither full nor started early (scheduler.go).
//
// Entries are ids and sizes; the job itself is in the job table (jobs.go).
// A queued id whose job no longer waits (it is gone, no longer received, or
// in a batch) is dropped when plan reaches it.

// readyQueue is the ready queues. Invariant, kept by its methods: an id is
// in queued iff it is in exactly one of later or one destination's list of
// ready, and then only once, so a job is never queued twice. A
// destination's list may be left empty until head finds it so.
//
// Guarded by Engine.mu, like all of the engine's state.
type readyQueue struct {
	ready  map[Destination][]readyEntry // received jobs due, in the order they became due
	bytes  map[Destination]int64        // the sizes of each list's entries, summed
	later  map[string]bool              // received jobs whose retry is not due yet
	queued map[string]bool              // ids in ready or later
}

// readyEntry is a job in a destination's list, with its object's size,
// which never changes and is kept here so that the list's bytes stay exact
// when a job that has left the job table is dropped.
type readyEntry struct {
	id   string
	size int64
}

func newReadyQueue() readyQueue {
	return readyQueue{ready: map[Destination][]readyEntry{}, bytes: map[Destination]int64{}, later: map[string]bool{}, queued: map[string]bool{}}
}

// append adds j at the tail of its destination's list and returns the
// destination.
func (q *readyQueue) append(j *journal.Job) Destination {
	d := destinationOf(j)
	q.ready[d] = append(q.ready[d], readyEntry{j.ID, j.Size})
	q.bytes[d] += j.Size
	return d
}

// push queues j, a received job in no batch, unless it is queued already:
// in later if its retry is not due by now, else at the tail of its
// destination's list. It returns the destination and whether j joined its
// list.
func (q *readyQueue) push(j *journal.Job, now time.Time) (Destination, bool) {
	if q.queued[j.ID] {
		return Destination{}, false
	}
	q.queued[j.ID] = true
	if j.NextAttempt.After(now) {
		q.later[j.ID] = true
		return Destination{}, false
	}
	return q.append(j), true
}

// promote moves the retries that are due by now from later to their
// destinations' lists, calling joined for each, and drops those whose job
// no longer waits (a job in later is never in a batch: plan takes jobs
// from the lists only). It returns the earliest retry still not due (zero
// if none).
func (q *readyQueue) promote(now time.Time, jobs *jobTable, joined func(Destination)) time.Time {
	var next time.Time
	for id := range q.later {
		j := jobs.waiting(id)
		if j == nil {
			delete(q.later, id)
			delete(q.queued, id)
			continue
		}
		if j.NextAttempt.After(now) {
			if next.IsZero() || j.NextAttempt.Before(next) {
				next = j.NextAttempt
			}
			continue
		}
		delete(q.later, id)
		joined(q.append(j))
	}
	return next
}

// head drops the entries at the front of d's list whose job no longer
// waits and returns the first job that does. When none is left it drops
// d's list and returns nil.
func (q *readyQueue) head(d Destination, jobs *jobTable) *journal.Job {
	es := q.ready[d]
	for len(es) > 0 {
		if j := jobs.waiting(es[0].id); j != nil {
			q.ready[d] = es
			return j
		}
		delete(q.queued, es[0].id)
		q.bytes[d] -= es[0].size
		es = es[1:]
	}
	delete(q.ready, d)
	delete(q.bytes, d)
	return nil
}

// destinations yields the destinations that have a list.
func (q *readyQueue) destinations() iter.Seq[Destination] { return maps.Keys(q.ready) }

// list is d's list, in order, not to be modified: entries whose job no
// longer waits included.
func (q *readyQueue) list(d Destination) []readyEntry { return q.ready[d] }

// bounds returns how many jobs and bytes d's list holds, entries whose job
// no longer waits included: no batch of d can carry more.
func (q *readyQueue) bounds(d Destination) (jobs int, bytes int64) {
	return len(q.ready[d]), q.bytes[d]
}

// take removes the first n entries of d's list, which a batch takes.
func (q *readyQueue) take(d Destination, n int) {
	es := q.ready[d]
	for _, e := range es[:n] {
		delete(q.queued, e.id)
		q.bytes[d] -= e.size
	}
	q.ready[d] = es[n:]
}

// enqueue makes a received job available to plan. Callers hold e.mu and
// call it whenever a job becomes received outside a batch: admitted,
// resumed, requeued, or back from a failed attempt once its batch is over.
func (e *Engine) enqueue(j *journal.Job, now time.Time) {
	if j.State != journal.Received || e.jobs.flying(j.ID) {
		return
	}
	if d, joined := e.ready.push(j, now); joined {
		e.pace.joinedNow(d, now)
	}
}

// promote moves retries that have come due into their queues and returns
// the earliest retry still waiting (zero if none). Callers hold e.mu.
func (e *Engine) promote(now time.Time) time.Time {
	return e.ready.promote(now, &e.jobs, func(d Destination) { e.pace.joinedNow(d, now) })
}

// head returns the first job of d's queue that waits for a batch, or nil
// when the queue is empty (pacing then forgets d). Callers hold e.mu.
func (e *Engine) head(d Destination) *journal.Job {
	j := e.ready.head(d, &e.jobs)
	if j == nil {
		e.pace.forget(d)
	}
	return j
}
