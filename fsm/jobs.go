package fsm

import (
	"iter"
	"maps"
	"time"

	"github.com/rinhq/rin/journal"
)

// jobTable is the engine's memory of jobs: every pending job (received,
// copying, copied) with when it last became received, the new jobs being
// journaled right now, and the jobs in a running batch. The journal is the
// durable copy; a job that ended (acked, failed, superseded, removed) is
// dropped from the table.
//
// Invariants, kept by its methods:
//   - readyAt has an entry for every received job of pending and none for
//     an id not in pending (a copied job keeps the one of its last received
//     spell until it leaves);
//   - claim refuses an id that is pending or being admitted, so a job is
//     journaled as new by one admission at a time;
//   - an id is in inflight from the plan that puts it in a batch
//     (waiting) until that batch's load is over.
//
// Guarded by Engine.mu, like all of the engine's state.
type jobTable struct {
	pending   map[string]*journal.Job // received, copying, copied
	readyAt   map[string]time.Time    // when a received job became due
	admitting map[string]bool         // new jobs being journaled right now
	inflight  map[string]bool         // jobs in a running batch
}

func newJobTable() jobTable {
	return jobTable{
		pending:   map[string]*journal.Job{},
		readyAt:   map[string]time.Time{},
		admitting: map[string]bool{},
		inflight:  map[string]bool{},
	}
}

// get returns the pending job id, nil if it is not pending.
func (t *jobTable) get(id string) *journal.Job { return t.pending[id] }

// all yields the pending jobs.
func (t *jobTable) all() iter.Seq2[string, *journal.Job] { return maps.All(t.pending) }

// len is the number of pending jobs.
func (t *jobTable) len() int { return len(t.pending) }

// backlog is the number of pending jobs and of new jobs being journaled:
// what receiving's backpressure counts.
func (t *jobTable) backlog() int { return len(t.pending) + len(t.admitting) }

// readySince is when the received job id became due.
func (t *jobTable) readySince(id string) time.Time { return t.readyAt[id] }

// set stores j as pending: now is when it became due if it is received.
func (t *jobTable) set(j *journal.Job, now time.Time) {
	t.pending[j.ID] = j
	if j.State == journal.Received {
		t.readyAt[j.ID] = now
	}
}

// drop forgets a job that ended.
func (t *jobTable) drop(id string) {
	delete(t.pending, id)
	delete(t.readyAt, id)
}

// claim marks id as being admitted (journaled as new). It returns false,
// and marks nothing, when the job is pending or already being admitted: a
// duplicate delivery, or an event and a submission of the same object.
func (t *jobTable) claim(id string) bool {
	if _, pending := t.pending[id]; pending || t.admitting[id] {
		return false
	}
	t.admitting[id] = true
	return true
}

// release ends the admission of a claimed id, journaled or not.
func (t *jobTable) release(id string) { delete(t.admitting, id) }

// isAdmitting reports whether id is being journaled as new right now.
func (t *jobTable) isAdmitting(id string) bool { return t.admitting[id] }

// fly marks a job as part of a running batch; land ends that.
func (t *jobTable) fly(id string)  { t.inflight[id] = true }
func (t *jobTable) land(id string) { delete(t.inflight, id) }

// flying reports whether id is in a running batch.
func (t *jobTable) flying(id string) bool { return t.inflight[id] }

// waiting returns the job id if it waits for a batch: pending, received
// and in no running batch. nil otherwise.
func (t *jobTable) waiting(id string) *journal.Job {
	j := t.pending[id]
	if j == nil || j.State != journal.Received || t.inflight[id] {
		return nil
	}
	return j
}

// schedule mirrors a journaled pending job in memory and queues it if it
// is received: a new job (admitted or submitted), one resumed or
// requeued. A job found copying goes back to received: the ledger
// decides whether its COPY had committed. Callers hold e.mu.
func (e *Engine) schedule(j journal.Job, now time.Time) {
	if j.Created.IsZero() {
		j.Created, j.Updated = now, now
	}
	if j.State == journal.Copying {
		j.State = journal.Received
	}
	e.jobs.set(&j, now)
	e.enqueue(&j, now)
}
