package fsm

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sort"
	"sync"
	"time"

	"github.com/rinhq/rin/journal"
)

// scheduleLoop groups due jobs into batches and starts them, within each
// endpoint's concurrency limit and breaker. It wakes when jobs arrive or a
// batch ends, and otherwise at the earliest moment something becomes due.
func (e *Engine) scheduleLoop(ctx context.Context, done <-chan struct{}, loads *sync.WaitGroup, fail func(error)) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-e.wake:
		case <-timer.C:
		}
		batches, next := e.plan(time.Now())
		for _, b := range batches {
			loads.Add(1)
			go func(b plannedBatch) {
				defer loads.Done()
				err := e.load(ctx, b)
				e.mu.Lock()
				e.pace.ended(b.Dest)
				e.mu.Unlock()
				e.signal(e.wake) // the table's next batch may start now
				if err != nil {
					fail(err)
				}
			}(b)
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(time.Until(next))
		// Let more jobs gather before the next plan: cheap debounce that keeps
		// a burst of admissions from replanning once per message.
		if !sleep(ctx, 5*time.Millisecond) {
			return
		}
	}
}

// plannedBatch is a batch and the held scope it probes, if any.
type plannedBatch struct {
	Batch
	probe *holdKey
}

// plan picks the batches to start now and when to plan next. It works from
// the heads of the ready queues (queue.go): its cost is that of the batches
// it starts, not of the jobs pending.
func (e *Engine) plan(now time.Time) ([]plannedBatch, time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	next := now.Add(time.Second)
	soon := func(t time.Time) {
		if !t.IsZero() && t.Before(next) {
			next = t
		}
	}
	soon(e.promote(now))
	// Oldest destination first, so no table starves.
	type due struct {
		d     Destination
		since time.Time // when its first job became due
	}
	var dests []due
	for d := range e.ready.destinations() {
		if j := e.head(d); j != nil {
			dests = append(dests, due{d, e.jobs.readySince(j.ID)})
		}
	}
	sort.Slice(dests, func(a, b int) bool { return dests[a].since.Before(dests[b].since) })
	// With no receiver left (batch mode at the end of the queue) no job
	// will join a batch: waiting for one to fill would only add max_age.
	closing := e.receiving == 0
	in := intake{receivers: e.receiving, admitting: len(e.adq.msgs)+len(e.jobs.admitting) > 0}
	var out []plannedBatch
	for _, dd := range dests {
		d := dd.d
		for {
			first := e.head(d)
			if first == nil || !e.slots.free(d.Endpoint) {
				break
			}
			ok, probe, until := e.holds.gate(d, now)
			if !ok {
				soon(until)
				break
			}
			maxFiles := e.opts.Batch.MaxFiles
			if first.MaxFiles > 0 {
				maxFiles = first.MaxFiles
			}
			if !d.Manifest || probe != nil {
				maxFiles = 1 // without a manifest every object is its own COPY; a probe risks one job
			}
			if !closing && probe == nil && !e.mayStart(d, first, maxFiles, in, now, soon) {
				break
			}
			// Walk the queue for up to maxFiles live jobs within max_bytes.
			q := e.ready.list(d)
			var jobs []*journal.Job
			var bytes int64
			i := 0
			for ; i < len(q) && len(jobs) < maxFiles; i++ {
				j := e.jobs.waiting(q[i].id)
				if j == nil {
					continue
				}
				if len(jobs) > 0 && bytes+j.Size > e.opts.Batch.MaxBytes {
					break
				}
				bytes += j.Size
				jobs = append(jobs, j)
			}
			full := len(jobs) == maxFiles || i < len(q)
			why := "max_age" // why the batch starts now, for the debug log
			switch {
			case probe != nil:
				why = "probe"
			case full:
				why = "full"
			case closing:
				why = "receivers done"
			}
			if !full && !closing && probe == nil {
				since := e.jobs.readySince(first.ID)
				if age := now.Sub(since); age < e.opts.Batch.MaxAge {
					// Wait for the batch to fill, at most MaxAge, unless
					// nothing joins it any more (pace.go).
					ok, at := e.pace.earlyStart(d, len(jobs), maxFiles, e.opts.Batch.MaxAge, in, now)
					if !ok {
						soon(since.Add(e.opts.Batch.MaxAge))
						soon(at)
						break
					}
					why = "queue dry"
				}
			}
			e.ready.take(d, i)
			b := plannedBatch{Batch: Batch{ID: newBatchID(), Dest: d, Jobs: make([]journal.Job, 0, len(jobs))}, probe: probe}
			for _, j := range jobs {
				e.jobs.fly(j.ID)
				b.Jobs = append(b.Jobs, *j)
			}
			e.slots.take(d.Endpoint)
			e.pace.started(d)
			e.log.Debug("batch planned", "batch_id", b.ID, "table", d.Schema+"."+d.Table, "jobs", len(b.Jobs), "why", why, "dry_wait", e.pace.dryWait())
			out = append(out, b)
		}
	}
	return out, next
}

// mayStart is plan's check before it walks d's queue (first at its head):
// false when, from the queue's length and bytes alone, no batch of d can
// start now, because it can be neither full nor past max_age nor started
// early (pace.go); soon is then told when it may. Walking a queue costs a
// lookup per job, and while a burst fills the batches of many tables plan
// runs between receives: without this check it walked every waiting
// batch each time: 3–5 ms with the lock held for 64 tables of 900 jobs.
// true means plan walks the queue and decides on the jobs that still wait.
func (e *Engine) mayStart(d Destination, first *journal.Job, maxFiles int, in intake, now time.Time, soon func(time.Time)) bool {
	n, bytes := e.ready.bounds(d)
	if n >= maxFiles || bytes > e.opts.Batch.MaxBytes {
		return true // it may be full
	}
	since := e.jobs.readySince(first.ID)
	if now.Sub(since) >= e.opts.Batch.MaxAge {
		return true
	}
	// earlyStart asks for at least half of maxFiles jobs and nothing more
	// of their number, so the queue's length stands in for the jobs that
	// still wait: if it says no, they say no.
	ok, at := e.pace.earlyStart(d, n, maxFiles, e.opts.Batch.MaxAge, in, now)
	if !ok {
		soon(since.Add(e.opts.Batch.MaxAge))
		soon(at)
	}
	return ok
}

func newBatchID() string {
	var b [8]byte
	rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
}

// endpointSlots counts the batches in flight per endpoint, which
// batch.concurrency bounds: plan takes a slot for each batch it starts,
// and the batch's load gives it back when it is over. Invariant: running
// holds an endpoint iff a batch of it is in flight. Guarded by Engine.mu,
// like all of the engine's state.
type endpointSlots struct {
	limit   int            // batches in flight per endpoint at most
	running map[string]int // batches in flight per endpoint
}

func newEndpointSlots(limit int) endpointSlots {
	return endpointSlots{limit: limit, running: map[string]int{}}
}

// free reports whether a batch of endpoint may start.
func (s *endpointSlots) free(endpoint string) bool { return s.running[endpoint] < s.limit }

func (s *endpointSlots) take(endpoint string) { s.running[endpoint]++ }

func (s *endpointSlots) release(endpoint string) {
	if s.running[endpoint]--; s.running[endpoint] <= 0 {
		delete(s.running, endpoint)
	}
}
