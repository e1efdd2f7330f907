package fsm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/rinhq/rin/journal"
)

// load runs one planned batch and releases its slot when done.
func (e *Engine) load(ctx context.Context, pb plannedBatch) error {
	defer func() {
		e.mu.Lock()
		e.running[pb.Dest.Endpoint]--
		now := time.Now()
		for _, j := range pb.Jobs {
			delete(e.inflight, j.ID)
			// Copied (or failed) and out of flight: maybe ackable now. put
			// runs only inside load, so this is the one place to mark.
			e.markAck(j.ID)
			if cur := e.jobs[j.ID]; cur != nil {
				e.enqueue(cur, now) // back to received after a failed attempt
			}
		}
		e.mu.Unlock()
		e.signal(e.wake)
		e.signal(e.ackWake)
	}()
	return e.attempt(ctx, pb.Batch, true)
}

// attempt is one COPY of b: copying (durable), Copy, then the outcome
// (durable). count says whether this attempt counts against the jobs'
// attempts; the halves of a split batch do not count again.
func (e *Engine) attempt(ctx context.Context, b Batch, count bool) error {
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

	switch {
	case err == nil:
		e.breakerDo(b.Dest.Endpoint, func(br *breaker) { br.success() })
		for i := range b.Jobs {
			j := &b.Jobs[i]
			j.State = journal.Copied
			j.CopiedAt = now
			j.LastError = ""
			j.Rows = res.Rows
			if res.Skipped[j.ID] {
				j.Rows = 0
				log.Info("already loaded (ledger); not loaded again", "job_id", j.ID, "uri", j.URI())
			}
		}
		if err := e.put(b.Jobs); err != nil {
			return err
		}
		log.Info("copied", "rows", res.Rows, "skipped", len(res.Skipped), "seconds", elapsed.Seconds())
		e.count(func(s *Stats) { s.Copied += int64(len(b.Jobs)); s.Rows += res.Rows })
		return nil

	case ctx.Err() != nil:
		// Shutting down past the grace period: the jobs stay copying on disk
		// and are resolved through the ledger on restart.
		log.Warn("copy abandoned at shutdown", "err", err)
		return nil

	case errors.Is(err, ErrBadObject) && len(b.Jobs) > 1:
		e.breakerDo(b.Dest.Endpoint, func(br *breaker) { br.success() })
		half := len(b.Jobs) / 2
		log.Warn("batch failed on an object; splitting to isolate it", "err", err, "halves", []int{half, len(b.Jobs) - half})
		for _, part := range [][]journal.Job{b.Jobs[:half], b.Jobs[half:]} {
			sub := Batch{ID: newBatchID(), Dest: b.Dest, Jobs: append([]journal.Job(nil), part...)}
			if err := e.attempt(ctx, sub, false); err != nil {
				return err
			}
		}
		return nil

	case IsPermanent(err):
		e.breakerDo(b.Dest.Endpoint, func(br *breaker) { br.success() })
		for i := range b.Jobs {
			j := &b.Jobs[i]
			j.LastError = err.Error()
			j.PermanentErrors++
			if j.PermanentErrors >= e.opts.Retry.MaxAttempts {
				j.State = journal.Failed
				log.Error("job failed: parked for a person (rin-journal requeue after fixing the cause)", "job_id", j.ID, "target", j.Target, "uri", j.URI(), "attempts", j.Attempts, "err", err)
			} else {
				j.State = journal.Received
				j.NextAttempt = now.Add(e.backoff(j.PermanentErrors))
				log.Warn("copy failed; will retry", "job_id", j.ID, "uri", j.URI(), "attempts", j.Attempts, "retry_at", j.NextAttempt, "err", err)
			}
		}
		return e.put(b.Jobs)

	default:
		var wait time.Duration
		e.breakerDo(b.Dest.Endpoint, func(br *breaker) { wait = br.failure(now) })
		e.count(func(s *Stats) { s.TransientErrors++ })
		log.Warn("copy failed with a transient error; endpoint held", "err", err, "next_probe_in", wait.Round(time.Millisecond))
		for i := range b.Jobs {
			j := &b.Jobs[i]
			j.LastError = err.Error()
			j.State = journal.Received
			j.NextAttempt = time.Time{} // the breaker decides when
			if e.opts.Retry.MaxElapsed > 0 && now.Sub(j.Created) > e.opts.Retry.MaxElapsed {
				j.State = journal.Failed
				j.LastError = fmt.Sprintf("gave up after %s of transient errors: %v", e.opts.Retry.MaxElapsed, err)
				log.Error("job failed: transient errors for too long", "job_id", j.ID, "uri", j.URI(), "err", err)
			}
		}
		return e.put(b.Jobs)
	}
}

// put writes jobs durably, then mirrors them in memory: finished jobs
// (failed) leave memory, pending ones are updated.
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
			delete(e.jobs, j.ID)
			delete(e.readyAt, j.ID)
			e.stats.Failed++
		default:
			job := j
			if cur := e.jobs[j.ID]; cur != nil {
				job.Created, job.Updated = cur.Created, now
			}
			e.jobs[j.ID] = &job
			if j.State == journal.Received {
				e.readyAt[j.ID] = now
			}
		}
	}
	return nil
}

// backoff is the wait before attempt n+1 after n failed attempts.
func (e *Engine) backoff(attempts int) time.Duration {
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval = e.opts.Retry.InitialInterval
	bo.MaxInterval = e.opts.Retry.MaxInterval
	bo.Multiplier = e.opts.Retry.Multiplier
	bo.MaxElapsedTime = 0
	bo.Reset()
	d := bo.NextBackOff()
	for i := 1; i < attempts; i++ {
		d = bo.NextBackOff()
	}
	return d
}

func (e *Engine) breakerDo(endpoint string, fn func(*breaker)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	fn(e.breaker(endpoint))
}
