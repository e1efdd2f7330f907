package fsm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rinhq/rin/journal"
	"github.com/rinhq/rin/sqsx"
)

// receiveLoop long-polls SQS and hands what arrives to the admitter
// (admitter.go), pausing while too
// many jobs are pending (backpressure) and, in batch mode, stopping once the
// queue is drained (see drained).
func (e *Engine) receiveLoop(ctx context.Context) error {
	defer func() {
		e.flushAdmissions() // a failure is the admitter's to report
		e.mu.Lock()
		e.receiving--
		e.mu.Unlock()
		e.signal(e.wake) // with no receiver left, batches need not wait to fill (plan)
		e.progress.fire()
	}()
	longPoll := e.opts.Receive.WaitTime
	if e.opts.BatchMode && longPoll > time.Second {
		longPoll = time.Second
	}
	wait := longPoll
	// In batch mode, once the queue gave nothing while messages this engine
	// does not hold remain (another rin's, or a dead one's), the loop polls
	// without waiting, pausing between polls as drainWatch says (drain.go).
	var pause time.Duration
	var watch drainWatch
	var failures int
	for ctx.Err() == nil {
		if pause > 0 && !e.pauseDraining(ctx, pause) {
			return nil
		}
		if e.backlogged() {
			if !sleep(ctx, 50*time.Millisecond) {
				return nil
			}
			continue
		}
		began := time.Now()
		e.receiveBegan(began)
		msgs, err := e.queue.Receive(ctx, e.opts.Receive.MaxMessages, wait, e.opts.Receive.Visibility)
		n := len(msgs)
		if err != nil {
			n = -1
		}
		e.receiveEnded(n, time.Since(began), time.Now()) // the planner's sign that the queue ran dry (pace.go)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			failures++
			e.count(func(s *Stats) { s.ReceiveErrors++ })
			d := time.Duration(min(failures, 6)) * time.Second
			e.log.Warn("receive failed; retrying", "err", err, "retry_in", d)
			if !sleep(ctx, d) {
				return nil
			}
			continue
		}
		failures = 0
		if len(msgs) == 0 {
			if e.opts.BatchMode {
				if err := e.flushAdmissions(); err != nil {
					return err
				}
				done, depth, held, receives := e.drained(ctx)
				if done {
					return nil
				}
				wait, pause = 0, watch.next(depth, held, receives, time.Now(), longPoll)
			}
			continue
		}
		wait, pause = longPoll, 0
		if err := e.enqueueAdmission(msgs); err != nil {
			return err
		}
	}
	return nil
}

func (e *Engine) backlogged() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.jobs.backlog()+len(e.adq.msgs) >= e.opts.Receive.MaxPending
}

// admit turns received messages (the admitter's batch, from every
// receiver) into journaled jobs, in one journal transaction. Unparseable bodies
// are journaled as rejected (whole, so nothing is lost) and deleted, so a
// poison message never blocks the queue. An error return means the journal
// failed and the engine must stop.
func (e *Engine) admit(ctx context.Context, msgs []sqsx.Message) error {
	now := time.Now()
	var parsed []admission
	var rejected []journal.Rejected
	var rejectedMsgs, skipped []sqsx.Message
	for _, m := range msgs {
		e.count(func(s *Stats) { s.Messages++ })
		records, err := sqsx.ParseBody(m.Body)
		switch {
		case errors.Is(err, sqsx.ErrTestEvent):
			e.log.Info("s3:TestEvent skipped", "message_id", m.ID)
			skipped = append(skipped, m)
		case err != nil:
			e.count(func(s *Stats) { s.Rejected++ })
			e.log.Warn("message rejected: journaled and deleted", "message_id", m.ID, "reason", err)
			rejected = append(rejected, journal.Rejected{ID: m.ID, Reason: err.Error(), Body: m.Body})
			rejectedMsgs = append(rejectedMsgs, m)
		default:
			parsed = append(parsed, admission{msg: m, records: len(records), candidates: e.jobsFor(m, records)})
		}
	}

	// Decide under the lock which jobs are new. Every pending job is in
	// memory, so a job that is not is either new or already finished; the
	// journal read below tells which. admitting guards against a duplicate
	// delivery admitted by another receiver (or in this batch) at once.
	e.mu.Lock()
	for i := range parsed {
		a := &parsed[i]
		for _, c := range a.candidates {
			a.ids = append(a.ids, c.ID)
			if e.jobs.claim(c.ID) {
				a.lookup = append(a.lookup, c)
			}
		}
	}
	e.mu.Unlock()

	existing := map[string]journal.Job{}
	err := e.journal.Update(func(tx *journal.Tx) error {
		clear(existing)
		for _, r := range rejected {
			if err := tx.PutRejected(r); err != nil {
				return err
			}
		}
		for _, a := range parsed {
			for i := range a.lookup {
				c := &a.lookup[i] // arrive may decide its state; register reads it
				old, err := tx.Job(c.ID)
				if err == nil {
					existing[c.ID] = old
					continue
				}
				if !errors.Is(err, journal.ErrNotFound) {
					return err
				}
				if err := e.arrive(tx, c); err != nil {
					return err
				}
				if err := tx.PutJob(*c); err != nil {
					return err
				}
			}
			if len(a.ids) > 0 {
				if err := tx.PutMessage(journal.Message{ID: a.msg.ID, ReceiptHandle: a.msg.ReceiptHandle, Jobs: a.ids, Received: now, Sent: a.msg.SentAt}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	e.mu.Lock()
	for _, a := range parsed {
		for _, c := range a.lookup {
			e.jobs.release(c.ID)
		}
	}
	if err != nil {
		e.mu.Unlock()
		return fmt.Errorf("%w: admit %d messages: %w", ErrJournal, len(msgs), err)
	}
	for _, a := range parsed {
		e.register(a, existing, now)
	}
	e.mu.Unlock()

	for _, m := range append(skipped, rejectedMsgs...) {
		e.deleteNow(ctx, m)
	}
	e.signal(e.wake)
	e.signal(e.ackWake)
	return nil
}

// admission is one parsed message on its way into the journal.
type admission struct {
	msg        sqsx.Message
	records    int
	candidates []journal.Job // its jobs, deduplicated
	ids        []string      // ids of candidates
	lookup     []journal.Job // candidates this admission journals, as written
}

// jobsFor routes a message's records to jobs.
func (e *Engine) jobsFor(m sqsx.Message, records []sqsx.Record) []journal.Job {
	var out []journal.Job
	seen := map[string]bool{}
	for _, r := range records {
		uri := "s3://" + r.Bucket + "/" + r.Key
		routes := e.router.Route(r.Bucket, r.Key) // never routes rin's own manifests
		if len(routes) == 0 {
			e.log.Warn("object matches no target; ignored", "message_id", m.ID, "uri", uri)
			continue
		}
		for _, rt := range routes {
			if rt.Discard {
				e.log.Debug("object discarded by target", "message_id", m.ID, "target", rt.Name, "uri", uri)
				continue
			}
			job := JobFor(rt, r) // submit.go: failed when the route cannot load it
			if !seen[job.ID] {
				seen[job.ID] = true
				out = append(out, job)
			}
		}
	}
	return out
}

// register mirrors an admitted message in memory. Callers hold e.mu.
func (e *Engine) register(a admission, existing map[string]journal.Job, now time.Time) {
	var fresh, dup int
	for _, c := range a.lookup {
		if old, ok := existing[c.ID]; ok {
			dup++
			if old.State.Pending() {
				if e.jobs.get(old.ID) == nil {
					// Safeguard: every pending job is loaded at resume and
					// stays in memory until it finishes, so this should not
					// happen; if it ever does, load the job rather than
					// strand it (one found copying goes back to received,
					// as at resume).
					e.schedule(old, now)
				}
			}
			continue
		}
		if c.State == journal.Failed {
			e.log.Error("job failed: target cannot take this object", "job_id", c.ID, "message_id", a.msg.ID, "target", c.Target, "uri", c.URI(), "err", c.LastError)
			e.stats.failed(c.Target)
			continue
		}
		if c.State == journal.Superseded { // arrive: an older event of its key
			e.superseded(c)
			continue
		}
		fresh++
		e.schedule(c, now)
	}
	dup += len(a.candidates) - len(a.lookup)
	e.msgs.add(a.msg, a.ids, now)
	e.dirty.msgs[a.msg.ID] = true // done already if all its jobs were
	e.stats.JobsAdmitted += int64(fresh)
	e.stats.Duplicates += int64(dup)
	e.log.Debug("message admitted", "message_id", a.msg.ID, "records", a.records, "new_jobs", fresh, "known_jobs", dup)
}

// deleteNow deletes a message that produced no job.
func (e *Engine) deleteNow(ctx context.Context, m sqsx.Message) {
	failed, err := e.queue.Delete(ctx, []string{m.ReceiptHandle})
	if err == nil {
		err = failed[m.ReceiptHandle]
	}
	if err != nil {
		e.count(func(s *Stats) { s.DeleteErrors++ })
		e.log.Warn("delete failed; the message will be redelivered and handled again", "message_id", m.ID, "err", err)
	}
}

func sleep(ctx context.Context, d time.Duration) bool { return sleepOr(ctx, d, nil) }

// sleepOr is sleep cut short when wake is closed (a nil wake never is).
func sleepOr(ctx context.Context, d time.Duration, wake <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
	case <-wake:
	}
	return true
}
