package fsm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rinhq/rin/journal"
	"github.com/rinhq/rin/sqsx"
)

// ackLoop deletes messages whose jobs are all done, then marks their
// copied jobs acked. A message is done when each of its jobs is copied,
// acked or failed: failed jobs are parked in the journal for a person, so the
// message is no longer needed to remember them. A copied job that no
// undeleted message refers to — one submitted without a message
// (submit.go), or whose messages are all gone — is acked at once.
//
// A pass woken by a change looks only at the messages and jobs that change
// touched (ackDirty); once a second, and at start and shutdown, a pass
// looks at everything, so nothing can be left behind by a change that was
// not marked.
//
// done closes once the last loads have finished: the pass it triggers is
// the last.
func (e *Engine) ackLoop(ctx context.Context, done <-chan struct{}, fail func(error)) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	full := true
	for {
		if err := e.ackOnce(ctx, full); err != nil {
			fail(err)
			return
		}
		select {
		case <-done:
			e.lastAck(ctx, fail)
			return
		case <-ctx.Done():
			return
		case <-e.ackWake:
			full = false
		case <-tick.C:
			full = true
		}
		// Let finished messages gather, so that deletes go out 100 at a
		// time rather than one pass per COPY or admission.
		select {
		case <-done:
			e.lastAck(ctx, fail)
			return
		case <-ctx.Done():
			return
		case <-time.After(ackGather):
		}
	}
}

// lastAck is the shutdown's full pass, so a clean shutdown leaves nothing
// copied but unacked. It is bounded: an unreachable SQS must not hold the
// shutdown, and what it leaves is done by the next run's first pass.
func (e *Engine) lastAck(ctx context.Context, fail func(error)) {
	ctx, cancel := context.WithTimeout(ctx, lastAckTimeout)
	defer cancel()
	if err := e.ackOnce(ctx, true); err != nil {
		fail(err)
	}
}

// lastAckTimeout bounds the shutdown's last ack pass.
const lastAckTimeout = 10 * time.Second

// ackGather is the least time between two ack passes.
const ackGather = 50 * time.Millisecond

// ackDirty is what changed since the last pass: messages that may be done,
// and jobs that may be ackable. Guarded by Engine.mu.
type ackDirty struct {
	msgs map[string]bool
	jobs map[string]bool
}

func newAckDirty() ackDirty { return ackDirty{msgs: map[string]bool{}, jobs: map[string]bool{}} }

// markAck notes that job id changed: it and its messages are looked at by
// the next pass. Callers hold e.mu.
func (e *Engine) markAck(id string) {
	e.dirty.jobs[id] = true
	for m := range e.msgs.of(id) {
		e.dirty.msgs[m] = true
	}
}

// ackOnce deletes finished messages and acks what it can: among everything
// when full is set, else among what changed since the last pass.
func (e *Engine) ackOnce(ctx context.Context, full bool) error {
	e.mu.Lock()
	msgs, jobs := e.dirty.msgs, e.dirty.jobs
	e.dirty = newAckDirty()
	var ready []*pendingMessage
	consider := func(m *pendingMessage) {
		if !m.deleting && e.messageDone(m) {
			m.deleting = true
			ready = append(ready, m)
		}
	}
	if full {
		for m := range e.msgs.all() {
			consider(m)
		}
	} else {
		for id := range msgs {
			if m := e.msgs.get(id); m != nil {
				consider(m)
			}
		}
	}
	e.mu.Unlock()

	began := time.Now()
	var gone []*pendingMessage
	for start := 0; start < len(ready); start += 1000 {
		chunk := ready[start:min(start+1000, len(ready))]
		handles := make([]string, len(chunk))
		for i, m := range chunk {
			handles[i] = m.handle
		}
		failed, err := e.queue.Delete(ctx, handles)
		for _, m := range chunk {
			ferr := err
			if ferr == nil {
				ferr = failed[m.handle]
			}
			switch {
			case ferr == nil:
				gone = append(gone, m)
			case errors.Is(ferr, sqsx.ErrStaleHandle):
				// Our handle expired: SQS will redeliver the message, and its
				// jobs, being done, get it deleted then. Nothing to keep here.
				e.log.Debug("receipt handle stale; message will be deleted on redelivery", "message_id", m.id)
				gone = append(gone, m)
			default:
				e.count(func(s *Stats) { s.DeleteErrors++ })
				e.log.Warn("delete failed; will retry", "message_id", m.id, "err", ferr)
				e.mu.Lock()
				m.deleting = false
				e.dirty.msgs[m.id] = true
				e.mu.Unlock()
			}
		}
	}

	// Acknowledge: forget the deleted messages, and ack copied jobs no
	// undeleted message refers to any more.
	e.mu.Lock()
	for _, m := range gone {
		for _, id := range m.jobs {
			jobs[id] = true
		}
		e.msgs.detach(m, &e.jobs)
	}
	var acked []journal.Job
	ack := func(id string, j *journal.Job) {
		if j.State == journal.Copied && !e.jobs.flying(id) && !e.msgs.carried(id) {
			job := *j
			job.State = journal.Acked
			acked = append(acked, job)
		}
	}
	if full {
		for id, j := range e.jobs.all() {
			ack(id, j)
		}
	} else {
		for id := range jobs {
			if j := e.jobs.get(id); j != nil {
				ack(id, j)
			}
		}
	}
	e.mu.Unlock()
	if len(gone) == 0 && len(acked) == 0 {
		return nil
	}
	if err := e.journal.Update(func(tx *journal.Tx) error {
		for _, m := range gone {
			if err := tx.DeleteMessage(m.id); err != nil {
				return err
			}
		}
		for _, j := range acked {
			if err := tx.PutJob(j); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("%w: ack: %w", ErrJournal, err)
	}
	e.mu.Lock()
	for _, m := range gone {
		e.msgs.forget(m)
	}
	for _, j := range acked {
		e.jobs.drop(j.ID)
		e.msgs.forgetJob(j.ID)
	}
	e.stats.Acked += int64(len(acked))
	e.stats.MessagesDeleted += int64(len(gone))
	e.mu.Unlock()
	e.log.Debug("ack pass", "messages_deleted", len(gone), "jobs_acked", len(acked), "seconds", time.Since(began).Seconds())
	e.progress.fire()
	for _, j := range acked {
		e.observeLag(j)
	}
	return nil
}

// messageDone reports whether every job of m is copied or finished.
// Callers hold e.mu.
func (e *Engine) messageDone(m *pendingMessage) bool {
	for _, id := range m.jobs {
		if e.jobs.isAdmitting(id) {
			return false
		}
		if j := e.jobs.get(id); j != nil && (j.State != journal.Copied || e.jobs.flying(id)) {
			return false
		}
	}
	return true
}

// sqsMaxVisibility is SQS's limit on how long a message can stay hidden
// after it was received.
const sqsMaxVisibility = 12 * time.Hour

// heartbeatLoop keeps the messages of pending jobs invisible, so SQS never
// hands one to another consumer mid-COPY, and held jobs cause no
// receive/retry storm while a scope is held. SQS allows 12 hours of
// invisibility per delivery; past that a message is let go, and its
// redelivery (a new handle, a new window) maps onto the same pending jobs.
// The loop also watches the queue's retention (retention.go).
func (e *Engine) heartbeatLoop(ctx context.Context, done <-chan struct{}) {
	every := max(e.opts.Receive.Visibility/3, 200*time.Millisecond)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := time.Now()
		e.mu.Lock()
		var handles []string
		for m := range e.msgs.all() {
			if m.deleting || e.messageDone(m) || now.Sub(m.delivered)+e.opts.Receive.Visibility >= sqsMaxVisibility {
				continue
			}
			handles = append(handles, m.handle)
		}
		e.mu.Unlock()
		e.watchRetention(now)
		if len(handles) == 0 {
			continue
		}
		failed, err := e.queue.ChangeVisibility(ctx, handles, e.opts.Receive.Visibility)
		if err != nil {
			e.log.Warn("visibility heartbeat failed", "messages", len(handles), "err", err)
			continue
		}
		if len(failed) > 0 {
			e.log.Debug("visibility heartbeat: some handles refused (stale after a restart, or deleted)", "refused", len(failed))
		}
	}
}
