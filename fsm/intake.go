package fsm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rinhq/rin/journal"
	"github.com/rinhq/rin/sqsx"
)

// receiveLoop long-polls SQS and admits what arrives, pausing while too
// many jobs are pending (backpressure) and, in batch mode, stopping at the
// first empty receive.
func (e *Engine) receiveLoop(ctx context.Context) error {
	defer func() {
		e.mu.Lock()
		e.receiving--
		e.mu.Unlock()
	}()
	wait := e.opts.Receive.WaitTime
	if e.opts.BatchMode && wait > time.Second {
		wait = time.Second
	}
	var failures int
	for ctx.Err() == nil {
		if e.backlogged() {
			if !sleep(ctx, 50*time.Millisecond) {
				return nil
			}
			continue
		}
		msgs, err := e.queue.Receive(ctx, e.opts.Receive.MaxMessages, wait, e.opts.Receive.Visibility)
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
				return nil
			}
			continue
		}
		for _, m := range msgs {
			if err := e.admit(ctx, m); err != nil {
				return err
			}
		}
	}
	return nil
}

func (e *Engine) backlogged() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.jobs)+len(e.admitting) >= e.opts.Receive.MaxPending
}

// admit turns one SQS message into journaled jobs. Unparseable bodies are
// journaled as rejected (whole, so nothing is lost) and deleted, so a
// poison message never blocks the queue. An error return means the journal
// failed and the engine must stop.
func (e *Engine) admit(ctx context.Context, m sqsx.Message) error {
	e.count(func(s *Stats) { s.Messages++ })
	log := e.log.With("message_id", m.ID)
	records, err := sqsx.ParseBody(m.Body)
	switch {
	case errors.Is(err, sqsx.ErrTestEvent):
		log.Info("s3:TestEvent skipped")
		e.deleteNow(ctx, m)
		return nil
	case err != nil:
		e.count(func(s *Stats) { s.Rejected++ })
		log.Warn("message rejected: journaled and deleted", "reason", err)
		if jerr := e.journal.Update(func(tx *journal.Tx) error {
			return tx.PutRejected(journal.Rejected{ID: m.ID, Reason: err.Error(), Body: m.Body})
		}); jerr != nil {
			return fmt.Errorf("%w: reject message %s: %w", ErrJournal, m.ID, jerr)
		}
		e.deleteNow(ctx, m)
		return nil
	}

	now := time.Now()
	var candidates []journal.Job
	seen := map[string]bool{}
	for _, r := range records {
		if e.opts.Ignore(r.Bucket, r.Key) {
			log.Debug("ignoring rin's own object", "uri", "s3://"+r.Bucket+"/"+r.Key)
			continue
		}
		routes := e.router.Route(r.Bucket, r.Key)
		if len(routes) == 0 {
			log.Warn("object matches no target; ignored", "uri", "s3://"+r.Bucket+"/"+r.Key)
			continue
		}
		for _, rt := range routes {
			if rt.Discard {
				log.Debug("object discarded by target", "target", rt.Name, "uri", "s3://"+r.Bucket+"/"+r.Key)
				continue
			}
			job := journal.Job{
				ID:     journal.JobID(rt.Redshift.Endpoint(), rt.Schema, rt.Table, r.Bucket, r.Key, r.Version()),
				State:  journal.Received,
				Target: rt.Name, Endpoint: rt.Redshift.Endpoint(), Schema: rt.Schema, Table: rt.Table,
				SQLOption: rt.SQLOption, Region: rt.S3.Region, Manifest: rt.UseManifest, MaxFiles: rt.Batch.MaxFiles,
				Bucket: r.Bucket, Key: r.Key, Version: r.Version(), Size: r.Size, EventTime: r.EventTime,
			}
			if rt.Err != nil {
				// The route cannot be loaded (e.g. a capture that yields no
				// valid table name): park this job for a person, not the process.
				job.State = journal.Failed
				job.LastError = rt.Err.Error()
			}
			if seen[job.ID] {
				continue
			}
			seen[job.ID] = true
			candidates = append(candidates, job)
		}
	}

	// Decide under the lock which jobs are new. Every pending job is in
	// memory, so a job that is not is either new or already finished; the
	// journal read below tells which. admitting guards against a duplicate
	// delivery admitted by another receiver at the same moment.
	e.mu.Lock()
	var lookup []journal.Job
	ids := make([]string, 0, len(candidates))
	for _, c := range candidates {
		ids = append(ids, c.ID)
		if _, pending := e.jobs[c.ID]; pending || e.admitting[c.ID] {
			continue
		}
		e.admitting[c.ID] = true
		lookup = append(lookup, c)
	}
	e.mu.Unlock()

	existing := map[string]journal.Job{}
	err = e.journal.Update(func(tx *journal.Tx) error {
		clear(existing)
		for _, c := range lookup {
			old, err := tx.Job(c.ID)
			if err == nil {
				existing[c.ID] = old
				continue
			}
			if !errors.Is(err, journal.ErrNotFound) {
				return err
			}
			if err := tx.PutJob(c); err != nil {
				return err
			}
		}
		if len(ids) == 0 {
			return nil
		}
		return tx.PutMessage(journal.Message{ID: m.ID, ReceiptHandle: m.ReceiptHandle, Jobs: ids, Received: now})
	})
	e.mu.Lock()
	for _, c := range lookup {
		delete(e.admitting, c.ID)
	}
	if err != nil {
		e.mu.Unlock()
		return fmt.Errorf("%w: admit message %s: %w", ErrJournal, m.ID, err)
	}
	var fresh, dup int
	for _, c := range lookup {
		if old, ok := existing[c.ID]; ok {
			dup++
			if old.State.Pending() {
				// Pending but not in memory cannot happen; load it rather than lose it.
				o := old
				e.jobs[o.ID] = &o
				e.readyAt[o.ID] = now
			}
			continue
		}
		if c.State == journal.Failed {
			e.log.Error("job failed: target cannot take this object", "job_id", c.ID, "target", c.Target, "uri", c.URI(), "err", c.LastError)
			e.count(func(s *Stats) { s.Failed++ })
			continue
		}
		fresh++
		job := c
		job.Created, job.Updated = now, now
		e.jobs[job.ID] = &job
		e.readyAt[job.ID] = now
	}
	dup += len(candidates) - len(lookup)
	pm := e.msgs[m.ID]
	if pm == nil {
		pm = &pendingMessage{id: m.ID, firstSeen: now}
		e.msgs[m.ID] = pm
	}
	pm.handle = m.ReceiptHandle // a redelivery brings a new handle
	pm.jobs = ids
	for _, id := range ids {
		e.attach(id, m.ID)
	}
	e.stats.JobsAdmitted += int64(fresh)
	e.stats.Duplicates += int64(dup)
	e.mu.Unlock()
	log.Debug("message admitted", "records", len(records), "new_jobs", fresh, "known_jobs", dup)
	e.signal(e.wake)
	e.signal(e.ackWake)
	return nil
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

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
