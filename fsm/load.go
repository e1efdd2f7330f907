package fsm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/rinhq/rin/journal"
)

// load runs one planned batch and releases its slot when done.
func (e *Engine) load(ctx context.Context, pb plannedBatch) error {
	defer func() {
		e.mu.Lock()
		e.slots.release(pb.Dest.Endpoint)
		now := time.Now()
		for _, j := range pb.Jobs {
			e.jobs.land(j.ID)
			// Copied (or failed) and out of flight: maybe ackable now. put
			// runs only inside load, so this is the one place to mark.
			e.markAck(j.ID)
			if cur := e.jobs.get(j.ID); cur != nil {
				e.enqueue(cur, now) // back to received after a failed attempt
			}
		}
		e.mu.Unlock()
		e.signal(e.wake)
		e.signal(e.ackWake)
	}()
	return e.attempt(ctx, pb.Batch, pb.probe, true)
}

// attempt is one COPY of b: copying (durable), Copy, then the outcome
// (durable). probe is the held scope b probes (nil if none). count says
// whether this attempt counts against the jobs' attempts; the halves of a
// split batch do not count again.
func (e *Engine) attempt(ctx context.Context, b Batch, probe *holdKey, count bool) error {
	log := e.log.With("batch_id", b.ID, "endpoint", b.Dest.Endpoint, "table", b.Dest.Schema+"."+b.Dest.Table, "jobs", len(b.Jobs))
	for i := range b.Jobs {
		j := &b.Jobs[i]
		j.State = journal.Copying
		j.BatchID = b.ID
		if count {
			j.Attempts++
		}
	}
	if err := e.put(b.Jobs); err != nil {
		return err
	}

	start := time.Now()
	copyCtx, cancel := ctx, context.CancelFunc(func() {})
	if e.opts.Batch.CopyTimeout > 0 {
		copyCtx, cancel = context.WithTimeout(ctx, e.opts.Batch.CopyTimeout)
	}
	res, err := e.copier.Copy(copyCtx, b)
	if err != nil && ctx.Err() == nil && errors.Is(copyCtx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("COPY cancelled after batch.copy_timeout (%s): %w", e.opts.Batch.CopyTimeout, err)
	}
	cancel()
	elapsed := time.Since(start)
	e.observeCopy(elapsed, err)
	now := time.Now()

	switch scope := ScopeOf(err); {
	case err == nil:
		e.resumeHeld(log, func(h *holds) []holdKey { return h.succeeded(b.Dest) })
		var skippedRows int64
		for i := range b.Jobs {
			j := &b.Jobs[i]
			if note, ok := res.Superseded[j.ID]; ok {
				j.State, j.Note, j.LastError = journal.Superseded, note, ""
				log.Info("superseded: the object changed since its event; the newer version loads with its own", "job_id", j.ID, "uri", j.URI(), "version", j.Version, "note", note)
				continue
			}
			if note, ok := res.Removed[j.ID]; ok {
				j.State, j.Note, j.LastError = journal.Removed, note, ""
				log.Info("removed: the object was deleted before its COPY", "job_id", j.ID, "uri", j.URI(), "version", j.Version, "note", note)
				continue
			}
			j.State = journal.Copied
			j.Note = res.Notes[j.ID]
			j.CopiedAt = now
			j.LastError = ""
			j.Rows = res.Rows
			j.SkippedRows = res.RowsSkipped[j.ID]
			skippedRows += j.SkippedRows
			if res.Skipped[j.ID] {
				j.Rows = 0
				log.Info("already loaded (ledger); not loaded again", "job_id", j.ID, "uri", j.URI())
			}
			if j.SkippedRows > 0 {
				log.Warn("loaded with rows skipped (MAXERROR); see stl_load_errors", "job_id", j.ID, "uri", j.URI(), "rows_skipped", j.SkippedRows)
			}
		}
		if err := e.put(b.Jobs); err != nil {
			return err
		}
		copied := b.Jobs
		if len(res.Superseded)+len(res.Removed) > 0 {
			copied = nil
			for _, j := range b.Jobs {
				if j.State == journal.Copied {
					copied = append(copied, j)
				}
			}
		}
		log.Info("copied", "rows", res.Rows, "skipped", len(res.Skipped), "rows_skipped", skippedRows,
			"superseded", len(res.Superseded), "removed", len(res.Removed), "seconds", elapsed.Seconds())
		e.count(func(s *Stats) { s.copied(copied, res.Rows) })
		return nil

	case ctx.Err() != nil:
		// Shutting down past the grace period: the jobs stay copying on disk
		// and are resolved through the ledger on restart.
		log.Warn("copy abandoned at shutdown", "err", err)
		return nil

	case scope == ScopeObject && len(b.Jobs) > 1:
		e.resumeHeld(log, func(h *holds) []holdKey { return h.passed(b.Dest, ScopeObject) })
		half := len(b.Jobs) / 2
		log.Warn("batch failed on an object; splitting to isolate it", "err", err, "halves", []int{half, len(b.Jobs) - half})
		for _, part := range [][]journal.Job{b.Jobs[:half], b.Jobs[half:]} {
			sub := Batch{ID: newBatchID(), Dest: b.Dest, Jobs: append([]journal.Job(nil), part...)}
			if err := e.attempt(ctx, sub, nil, false); err != nil {
				return err
			}
		}
		return nil

	case scope == ScopeObject:
		e.resumeHeld(log, func(h *holds) []holdKey { return h.passed(b.Dest, ScopeObject) })
		for i := range b.Jobs {
			j := &b.Jobs[i]
			if errors.Is(err, ErrObjectGone) {
				j.State, j.Note, j.LastError = journal.Removed, err.Error(), ""
				log.Info("removed: the object was deleted before its COPY", "job_id", j.ID, "uri", j.URI(), "err", err)
				continue
			}
			j.LastError = err.Error()
			j.PermanentErrors++
			if j.PermanentErrors >= e.opts.Retry.MaxAttempts {
				j.State = journal.Failed
				log.Error("job failed: parked for a person (rin-journal requeue after fixing the cause)", "job_id", j.ID, "target", j.Target, "uri", j.URI(), "attempts", j.Attempts, "err", err)
			} else {
				j.State = journal.Received
				j.NextAttempt = now.Add(retryBackoff(e.opts.Retry, j.PermanentErrors))
				log.Warn("copy failed on this object; will retry", "job_id", j.ID, "uri", j.URI(), "attempts", j.Attempts, "retry_at", j.NextAttempt, "err", err)
			}
		}
		return e.put(b.Jobs)

	case scope == ScopeStatement:
		var wait time.Duration
		e.resumeHeld(log, func(h *holds) []holdKey {
			wait = h.statementRetry(b.Dest)
			return h.passed(b.Dest, ScopeStatement)
		})
		e.count(func(s *Stats) { s.TransientErrors++ })
		log.Warn("copy failed; retrying the statement", "err", err, "retry_in", wait.Round(time.Millisecond))
		e.keepPending(log, b.Jobs, err, now.Add(wait), now)
		return e.put(b.Jobs)

	default:
		var (
			key    holdKey
			wait   time.Duration
			opened bool
		)
		e.resumeHeld(log, func(h *holds) []holdKey {
			key, wait, opened = h.failed(b.Dest, scope, probe, err, now)
			return nil
		})
		e.count(func(s *Stats) { s.TransientErrors++ })
		msg := "environment fault; holding its scope (jobs stay pending, nothing is marked failed)"
		if !opened {
			msg = "environment fault persists; scope still held"
		}
		log.Warn(msg, "scope", key.scope.String(), "held", key.name, "probe", probe != nil, "err", err, "next_probe_in", wait.Round(time.Millisecond))
		e.keepPending(log, b.Jobs, err, time.Time{}, now)
		return e.put(b.Jobs)
	}
}

// keepPending puts the jobs of a batch that failed for a reason that is not
// theirs back to received, to be tried again at retryAt (zero: when their
// scope's breaker lets them). Only retry.max_elapsed, when a person set it,
// gives up on them.
func (e *Engine) keepPending(log *slog.Logger, jobs []journal.Job, err error, retryAt, now time.Time) {
	for i := range jobs {
		j := &jobs[i]
		j.LastError = err.Error()
		j.State = journal.Received
		j.NextAttempt = retryAt
		if e.opts.Retry.MaxElapsed > 0 && now.Sub(j.Created) > e.opts.Retry.MaxElapsed {
			j.State = journal.Failed
			j.LastError = fmt.Sprintf("gave up after retry.max_elapsed (%s): %v", e.opts.Retry.MaxElapsed, err)
			log.Error("job failed: retry.max_elapsed reached", "job_id", j.ID, "uri", j.URI(), "err", err)
		}
	}
}

// resumeHeld runs fn on the holds under the lock and logs the scopes it
// reports healed.
func (e *Engine) resumeHeld(log *slog.Logger, fn func(*holds) []holdKey) {
	e.mu.Lock()
	healed := fn(&e.holds)
	e.mu.Unlock()
	for _, k := range healed {
		log.Info("held scope healed; loading resumes", "scope", k.scope.String(), "held", k.name)
	}
}

// put writes jobs durably, then mirrors them in memory: ended jobs
// (failed, superseded, removed) leave memory, pending ones are updated.
func (e *Engine) put(jobs []journal.Job) error {
	if err := e.journal.Update(func(tx *journal.Tx) error {
		for _, j := range jobs {
			if err := tx.PutJob(j); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("%w: %w", ErrJournal, err)
	}
	now := time.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, j := range jobs {
		switch j.State {
		case journal.Failed:
			e.jobs.drop(j.ID)
			e.stats.failed(j.Target)
		case journal.Superseded, journal.Removed:
			e.jobs.drop(j.ID)
			e.stats.ended(j.Target, j.State)
		default:
			job := j
			if cur := e.jobs.get(j.ID); cur != nil {
				job.Created, job.Updated = cur.Created, now
			}
			e.jobs.set(&job, now)
		}
	}
	return nil
}

// retryBackoff is the wait before attempt n+1 after n failed attempts.
func retryBackoff(r RetryOptions, attempts int) time.Duration {
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval = r.InitialInterval
	bo.MaxInterval = r.MaxInterval
	bo.Multiplier = r.Multiplier
	bo.MaxElapsedTime = 0
	bo.Reset()
	d := bo.NextBackOff()
	for i := 1; i < attempts; i++ {
		d = bo.NextBackOff()
	}
	return d
}
