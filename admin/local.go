package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/rinhq/rin/journal"
)

// Local performs the operations on an open journal: rin-journal's offline
// mode, and what rin's admin server does on its behalf.
type Local struct {
	Journal *journal.Journal
	// Engine, when set, is the engine running on Journal. Requeue goes
	// through it so that it picks the jobs up; without it (offline) the
	// next rin to start finds them in received.
	Engine Requeuer
	// Now is the clock for ages and cutoffs; nil means time.Now.
	Now func() time.Time
}

var _ Service = (*Local)(nil)

func (l *Local) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Dump walks the jobs inside one read transaction. With a state filter
// only that state's jobs are read, through the index.
//
// fn runs inside the transaction; a caller that may block (a network
// client) should collect first, as the server does, because a long read
// transaction stops bbolt from growing the file under rin's writes.
func (l *Local) Dump(ctx context.Context, f Filter, fn func(Record) error) error {
	if err := f.Validate(); err != nil {
		return err
	}
	now := l.now()
	n := 0
	err := l.Journal.View(func(tx *journal.Tx) error {
		return tx.ForEachJob(f.State, func(j journal.Job) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if !f.Match(j, now) {
				return nil
			}
			if f.Limit > 0 && n >= f.Limit {
				return errStop
			}
			n++
			return fn(NewRecord(j))
		})
	})
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}

// errStop ends a walk early without being an error.
var errStop = errors.New("stop")

// Requeue validates the request, resolves AllFailed to ids, and requeues
// them in one transaction (through the engine when there is one).
func (l *Local) Requeue(ctx context.Context, r RequeueRequest) ([]Record, error) {
	ids, err := l.requeueIDs(ctx, r)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	var jobs []journal.Job
	if l.Engine != nil {
		jobs, err = l.Engine.Requeue(ids)
	} else {
		err = l.Journal.Update(func(tx *journal.Tx) error {
			jobs = jobs[:0]
			for _, id := range ids {
				job, err := tx.Requeue(id)
				if err != nil {
					return err
				}
				jobs = append(jobs, job)
			}
			return nil
		})
		if err != nil {
			err = fmt.Errorf("requeue: %w", err)
		}
	}
	if err != nil {
		return nil, err
	}
	out := make([]Record, len(jobs))
	for i, j := range jobs {
		out[i] = NewRecord(j)
	}
	return out, nil
}

// requeueIDs turns a request into the ids to requeue, deduplicated.
func (l *Local) requeueIDs(ctx context.Context, r RequeueRequest) ([]string, error) {
	switch {
	case r.AllFailed && len(r.IDs) > 0:
		return nil, fmt.Errorf("%w: give job ids or all failed jobs, not both", ErrBadRequest)
	case !r.AllFailed && r.Target != "":
		return nil, fmt.Errorf("%w: a target selects among all failed jobs; it cannot narrow a list of ids", ErrBadRequest)
	case !r.AllFailed && len(r.IDs) == 0:
		return nil, fmt.Errorf("%w: no job ids (or ask for all failed jobs)", ErrBadRequest)
	case !r.AllFailed:
		ids := slices.Clone(r.IDs)
		slices.Sort(ids)
		return slices.Compact(ids), nil
	}
	var ids []string
	err := l.Journal.View(func(tx *journal.Tx) error {
		return tx.ForEachJob(journal.Failed, func(j journal.Job) error {
			if r.Target == "" || j.Target == r.Target {
				ids = append(ids, j.ID)
			}
			return ctx.Err()
		})
	})
	return ids, err
}

// Forget drops acked jobs last updated more than olderThan ago.
func (l *Local) Forget(ctx context.Context, olderThan time.Duration) (ForgetResult, error) {
	if olderThan <= 0 {
		return ForgetResult{}, fmt.Errorf("%w: the retention must be positive (it is the dedupe window)", ErrBadRequest)
	}
	if err := ctx.Err(); err != nil {
		return ForgetResult{}, err
	}
	res := ForgetResult{Cutoff: l.now().Add(-olderThan)}
	err := l.Journal.Update(func(tx *journal.Tx) error {
		n, err := tx.Forget(res.Cutoff)
		if err != nil {
			return err
		}
		res.Forgotten = n
		res.RejectedForgotten, err = tx.ForgetRejected(res.Cutoff)
		return err
	})
	if err != nil {
		return ForgetResult{}, fmt.Errorf("forget: %w", err)
	}
	return res, nil
}

// Check runs the journal's consistency check, after reading every page
// itself. bbolt's check runs in a goroutine of its own, where a page too
// damaged to parse panics beyond any recover and takes the process down:
// rin-journal with a stack trace, or rin itself when the check is live.
// Reading the pages here first, where a panic can be recovered, turns such
// a page into a problem report.
func (l *Local) Check(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if p := l.readAll(); p != "" {
		return []string{p}, nil
	}
	problems, err := l.Journal.Check()
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	out := make([]string, len(problems))
	for i, p := range problems {
		out[i] = p.String()
	}
	return out, nil
}

// readAll walks every bucket (and so every page holding keys or values)
// in this goroutine, and reports a page bbolt cannot parse. Decoding errors
// are left to Journal.Check, which reports them all.
func (l *Local) readAll() (problem string) {
	defer func() {
		if r := recover(); r != nil {
			problem = fmt.Sprintf("bbolt: unreadable page (%v)", r)
		}
	}()
	l.Journal.View(func(tx *journal.Tx) error {
		tx.CountJobs()
		tx.ForEachJob("", func(journal.Job) error { return nil })
		tx.ForEachMessage(func(journal.Message) error { return nil })
		tx.ForEachRejected(func(journal.Rejected) error { return nil })
		return nil
	})
	return ""
}
