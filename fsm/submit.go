package fsm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/journal"
	"github.com/rinhq/rin/sqsx"
)

// Jobs without an SQS message — objects found by `rin backfill` listing a
// prefix — enter the engine here, and from then on are jobs like any
// other: the same journal, scheduler, batches, ledger and holds. Nothing
// has to be deleted for them, so the ack pass (ack.go) acks them as soon as
// they are copied: it acks any copied job that no undeleted message refers
// to. If an event for the same object arrives later, it maps to the same
// job (same id) and its message is deleted without a second load.

// ErrNotRouted means a submitted job is not what this engine's routing
// makes of its object: the submitter read another config, or the job was
// made up. Nothing is journaled then, so a job no target of the running
// config can load never waits in the journal.
var ErrNotRouted = errors.New("job does not match the config's routing")

// JobFor is the job that loads the object of r through route rt. It is the
// one constructor of jobs, for events (intake.go) and submissions alike, so
// an object gets the same job id however rin hears of it. A route that
// cannot load the object (rt.Err) gives a failed job.
func JobFor(rt config.Route, r sqsx.Record) journal.Job {
	job := journal.Job{
		ID:     journal.JobID(rt.Redshift.Endpoint(), rt.Schema, rt.Table, r.Bucket, r.Key, r.Version()),
		State:  journal.Received,
		Target: rt.Name, Endpoint: rt.Redshift.Endpoint(), Schema: rt.Schema, Table: rt.Table,
		SQLOption: rt.SQLOption, Region: rt.S3.Region, Manifest: rt.UseManifest, MaxFiles: rt.Batch.MaxFiles,
		Bucket: r.Bucket, Key: r.Key, Version: r.Version(), Size: r.Size, EventTime: r.EventTime,
		ETag: r.ETag, Sequencer: r.Sequencer,
	}
	if rt.Err != nil {
		// The route cannot be loaded (e.g. a capture that yields no valid
		// table name): park this job for a person, not the process.
		job.State = journal.Failed
		job.LastError = rt.Err.Error()
	}
	return job
}

// Submit journals jobs that come with no SQS message, in one transaction,
// and schedules the new ones. A job already known — pending, loaded or
// failed, whatever brought it — is left as it is and counted as known:
// submitting twice loads nothing twice, and a failed job stays failed until
// a person requeues it.
//
// Each job is routed again through the engine's own config and must come
// out with the same id (ErrNotRouted otherwise, and nothing is journaled):
// only the object (bucket, key, version) and its size and event time are
// taken from the submission, everything else from the config. Submit may be
// called before Run; the jobs then load once Run starts.
func (e *Engine) Submit(ctx context.Context, jobs []journal.Job) (admitted, known int, err error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	if e.router == nil {
		return 0, 0, fmt.Errorf("submit: %w: this engine has no router", ErrNotRouted)
	}
	cands := make([]journal.Job, 0, len(jobs))
	seen := make(map[string]bool, len(jobs))
	for _, j := range jobs {
		c, err := e.resolve(j)
		if err != nil {
			return 0, 0, fmt.Errorf("submit: %w", err)
		}
		if seen[c.ID] {
			known++
			continue
		}
		seen[c.ID] = true
		cands = append(cands, c)
	}

	// As in admit: pending jobs are in memory, and admitting guards
	// against an event for the same object being journaled meanwhile.
	e.mu.Lock()
	var lookup []journal.Job
	for _, c := range cands {
		if !e.jobs.claim(c.ID) {
			known++
			continue
		}
		lookup = append(lookup, c)
	}
	e.mu.Unlock()

	var added, stranded []journal.Job
	err = e.journal.Update(func(tx *journal.Tx) error {
		added, stranded = added[:0], stranded[:0]
		for _, c := range lookup {
			old, err := tx.Job(c.ID)
			if err == nil {
				if old.State.Pending() {
					stranded = append(stranded, old)
				}
				continue
			}
			if !errors.Is(err, journal.ErrNotFound) {
				return err
			}
			if err := e.arrive(tx, &c); err != nil {
				return err
			}
			if err := tx.PutJob(c); err != nil {
				return err
			}
			added = append(added, c)
		}
		return nil
	})
	now := time.Now()
	e.mu.Lock()
	for _, c := range lookup {
		e.jobs.release(c.ID)
	}
	if err != nil {
		e.mu.Unlock()
		return 0, 0, fmt.Errorf("%w: submit %d jobs: %w", ErrJournal, len(lookup), err)
	}
	for _, c := range added {
		switch c.State {
		case journal.Failed:
			e.log.Error("job failed: target cannot take this object", "job_id", c.ID, "target", c.Target, "uri", c.URI(), "err", c.LastError)
			e.stats.failed(c.Target)
		case journal.Superseded:
			e.superseded(c)
		default:
			e.schedule(c, now)
		}
	}
	for _, old := range stranded {
		// The safeguard of register (intake.go): a pending job is always
		// in memory; should one ever not be, load it rather than strand it.
		if e.jobs.get(old.ID) == nil {
			e.schedule(old, now)
		}
	}
	e.stats.JobsAdmitted += int64(len(added))
	e.mu.Unlock()
	e.signal(e.wake)
	e.signal(e.ackWake)
	known += len(lookup) - len(added)
	e.log.Debug("jobs submitted", "new_jobs", len(added), "known_jobs", known)
	return len(added), known, nil
}

// resolve routes a submitted job's object through the engine's config and
// returns the job the config makes of it, which must have the submitted id.
func (e *Engine) resolve(j journal.Job) (journal.Job, error) {
	rec := sqsx.Record{Bucket: j.Bucket, Key: j.Key, Size: j.Size, VersionID: j.Version, EventTime: j.EventTime, ETag: j.ETag, Sequencer: j.Sequencer}
	if j.Bucket != "" && j.Key != "" {
		for _, rt := range e.router.Route(j.Bucket, j.Key) {
			if rt.Discard {
				continue
			}
			if c := JobFor(rt, rec); c.ID == j.ID {
				return c, nil
			}
		}
	}
	return journal.Job{}, fmt.Errorf("job %s (%s, version %q, %s): %w", j.ID, j.URI(), j.Version, j.Target, ErrNotRouted)
}

// HoldsOn returns the held scopes, among holds, on j's way to Redshift:
// what keeps a received job waiting. Submitters use it to tell a job that
// is merely queued from one an environment fault holds.
func HoldsOn(holds []Hold, j journal.Job) []Hold {
	d := destinationOf(&j)
	var out []Hold
	for _, s := range gateScopes {
		k := holdKeyOf(s, d)
		for _, h := range holds {
			if h.Scope == k.scope.String() && h.Name == k.name {
				out = append(out, h)
			}
		}
	}
	return out
}
