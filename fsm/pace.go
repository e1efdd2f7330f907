package fsm

import "time"

// Group commit per table. A batch that is not full waits for company, at
// most batch.max_age, so that a COPY — expensive on Redshift — carries many
// objects. Waiting is pointless, though, once nothing joins the batch any
// more: at the end of a burst the receivers have drained the queue, and
// every second of max_age left is a second added to the load. So a batch
// that is not full also starts early when
//
//   - the intake has stopped feeding it: a receive came back with fewer
//     messages than it asked for (the queue had no more to give) after the
//     destination's last job joined, and no job has joined since for a
//     quiet spell (max_age/8, between 50 ms and 500 ms). Either alone
//     misleads: SQS hands out short batches while a backlog waits, and on a
//     busy machine a slow receive leaves a gap as long as the end of a
//     burst does. Or, sooner, every receiver has been waiting in its receive
//     for several times what a receive that brings messages takes (dryWait)
//     with nothing left to admit: a long poll returns as soon as the queue
//     has a message, so one that lasts is a dry queue. Without that the end
//     of a burst whose last receive came back full shows only when a long
//     poll expires, wait_time later (1 s in batch mode, 20 s by default);
//     and measured against the receives' own pace, a slow machine's slow
//     receives do not look like the end of the queue;
//   - it holds at least half of max_files: a trickle (a few objects a
//     second) still waits for max_age, so early starts never make small
//     COPYs; and
//   - no batch of its table is in flight in this engine. While one is, the
//     next batch accumulates behind it: it would only wait for the table's
//     guard, holding one of the endpoint's COPY slots that another table
//     could use.
//
// A full batch, a probe, a batch past max_age, or any batch once no receiver
// is left (batch mode at the end of the queue) starts as before. Only when a
// batch starts changes, never what a load does: it is journaled copying
// before its COPY and checked against the ledger in the COPY's transaction
// (load.go, the Copier), so exactly-once does not depend on any of this.

// pacing is what the planner knows about arrivals and COPYs in flight, per
// destination and table. Guarded by Engine.mu; the zero value is ready.
type pacing struct {
	joined map[Destination]time.Time // when a job last joined the destination's ready queue
	short  time.Time                 // when a receive last came back with fewer messages than asked for
	busy   map[tableRef]int          // batches of a table in flight in this engine

	brought   int           // receive calls that brought messages (each restarts batch mode's drain record: drain.go)
	polls     int           // receive calls in flight
	pollStart time.Time     // when the latest of them began
	pollTook  time.Duration // how long a receive that brings messages takes (moving average)
}

// tableRef names a table on an endpoint: what the table's guard serialises.
type tableRef struct{ endpoint, schema, table string }

func tableOf(d Destination) tableRef { return tableRef{d.Endpoint, d.Schema, d.Table} }

// joinedNow notes a job joining d's ready queue.
func (p *pacing) joinedNow(d Destination, now time.Time) {
	if p.joined == nil {
		p.joined = map[Destination]time.Time{}
	}
	p.joined[d] = now
}

// forget drops d once its ready queue is empty.
func (p *pacing) forget(d Destination) { delete(p.joined, d) }

func (p *pacing) started(d Destination) {
	if p.busy == nil {
		p.busy = map[tableRef]int{}
	}
	p.busy[tableOf(d)]++
}

func (p *pacing) ended(d Destination) {
	t := tableOf(d)
	if p.busy[t]--; p.busy[t] <= 0 {
		delete(p.busy, t)
	}
}

// quietSpell is how long a destination must go without a new job before a
// batch that is not full may start early.
func quietSpell(maxAge time.Duration) time.Duration {
	return min(max(maxAge/8, 50*time.Millisecond), 500*time.Millisecond)
}

// dryWait is how long every receiver must have waited in its receive for
// the queue to count as dry: several times what a receive that brings
// messages takes here, so that a busy machine's slow receives are not
// mistaken for an empty queue, within bounds.
func (p *pacing) dryWait() time.Duration {
	return min(max(4*p.pollTook, 50*time.Millisecond), time.Second)
}

// receiveBegan notes a receiver entering a receive call. The planner is
// woken when every receiver is in one and a batch waits: the queue may be
// dry from dryWait on. (Not on every receive: while a backlog streams in,
// the plan would only find the same batches filling.)
func (e *Engine) receiveBegan(now time.Time) {
	e.mu.Lock()
	e.pace.polls++
	e.pace.pollStart = now
	all := e.pace.polls >= e.receiving && len(e.pace.joined) > 0
	e.mu.Unlock()
	if all {
		e.signal(e.wake)
	}
}

// receiveEnded notes a receive call's end: n messages after took (n < 0
// for a failed call, which says nothing about the queue). A receive that
// brought fewer messages than asked for is the sign that the queue ran dry;
// it wakes the planner.
func (e *Engine) receiveEnded(n int, took time.Duration, now time.Time) {
	short := n >= 0 && n < int(e.opts.Receive.MaxMessages)
	e.mu.Lock()
	e.pace.polls--
	if n > 0 {
		if e.pace.pollTook == 0 {
			e.pace.pollTook = took
		} else {
			e.pace.pollTook += (took - e.pace.pollTook) / 8
		}
	}
	if short {
		e.pace.short = now
	}
	if n > 0 {
		e.pace.brought++
	}
	e.mu.Unlock()
	if short {
		e.signal(e.wake)
	}
}

// intake is what earlyStart needs to know of the receivers: how many run,
// and whether received messages still wait to be admitted (their jobs have
// not joined yet).
type intake struct {
	receivers int
	admitting bool
}

// earlyStart reports whether a batch of n jobs for d (at most maxFiles), not
// full and younger than max_age, may start now; if not, it returns when it
// may, zero when only max_age (or a batch of its table ending, or the
// receivers) will let it.
func (p *pacing) earlyStart(d Destination, n, maxFiles int, maxAge time.Duration, in intake, now time.Time) (bool, time.Time) {
	if n < max(1, maxFiles/2) || p.busy[tableOf(d)] > 0 {
		return false, time.Time{}
	}
	joined := p.joined[d]
	var at time.Time
	switch {
	case p.short.After(joined):
		at = joined.Add(quietSpell(maxAge))
	case in.receivers > 0 && p.polls >= in.receivers && !in.admitting:
		at = later(p.pollStart, joined).Add(p.dryWait())
	default:
		return false, time.Time{} // a short receive, or every receiver waiting, wakes the planner
	}
	if !now.Before(at) {
		return true, time.Time{}
	}
	return false, at
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
