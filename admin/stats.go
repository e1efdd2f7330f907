package admin

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/rinhq/rin/journal"
)

// Stats summarises a journal for people (rin-journal stats).
type Stats struct {
	Total   int                   `json:"total"`
	States  map[journal.State]int `json:"states"` // every state, zeros included
	Targets []TargetStats         `json:"targets"`
	// OldestPending is the pending job journaled first: how far behind rin is.
	OldestPending *OldestPending `json:"oldest_pending"`
	// Errors are the most frequent last errors of failed jobs and of jobs
	// waiting to be retried, most frequent first.
	Errors []ErrorCount `json:"errors"`
	// UndeletedMessages are SQS messages rin still has to delete.
	UndeletedMessages int `json:"undeleted_messages"`
	// RejectedMessages are SQS messages rin could not parse, kept in the
	// journal (rin-journal rejected lists them).
	RejectedMessages int `json:"rejected_messages"`
	// PartialLoads are the jobs whose COPY committed with rows of their
	// object skipped under MAXERROR, and SkippedRows those rows.
	PartialLoads int       `json:"partial_loads"`
	SkippedRows  int64     `json:"skipped_rows"`
	Generated    time.Time `json:"generated"`
}

// TargetStats counts one target's jobs by state.
type TargetStats struct {
	Target string                `json:"target"`
	States map[journal.State]int `json:"states"`
}

// OldestPending identifies the oldest pending job.
type OldestPending struct {
	ID         string        `json:"id"`
	State      journal.State `json:"state"`
	Target     string        `json:"target"`
	URI        string        `json:"uri"`
	Created    time.Time     `json:"created"`
	AgeSeconds float64       `json:"age_seconds"`
}

// ErrorCount is one distinct error and how many jobs carry it. Errors are
// grouped by their normalized text (errnorm.go); Example names one job whose
// full text rin-journal dump shows.
type ErrorCount struct {
	Error    string    `json:"error"`
	Jobs     int       `json:"jobs"`
	Failed   int       `json:"failed"`   // of which parked as failed
	Retrying int       `json:"retrying"` // of which waiting for a retry
	LastSeen time.Time `json:"last_seen"`
	Example  string    `json:"example_job"` // one job id, to dump or requeue
}

// StatsOptions tune Stats.
type StatsOptions struct {
	// TopErrors is how many distinct errors to report; 0 means 5.
	TopErrors int
	// ErrorsSince counts only errors of jobs updated within this long;
	// 0 counts every failed or retrying job.
	ErrorsSince time.Duration
}

// maxErrorLen bounds an error's text in stats: the first part names the
// cause, and grouping must not split on a long tail of detail.
const maxErrorLen = 300

// Stats reads every job once, in one read transaction. Unlike /metrics it
// decodes the acked jobs too (to count them per target): it is run by a
// person, not every few seconds by a scraper.
func (l *Local) Stats(ctx context.Context, o StatsOptions) (Stats, error) {
	if o.TopErrors <= 0 {
		o.TopErrors = 5
	}
	now := l.now()
	st := Stats{States: zeroStates(), Generated: now}
	targets := map[string]map[journal.State]int{}
	errs := map[string]*ErrorCount{}
	err := l.Journal.View(func(tx *journal.Tx) error {
		err := tx.ForEachJob("", func(j journal.Job) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			st.Total++
			st.States[j.State]++
			t := targets[j.Target]
			if t == nil {
				t = zeroStates()
				targets[j.Target] = t
			}
			t[j.State]++
			if j.SkippedRows > 0 {
				st.PartialLoads++
				st.SkippedRows += j.SkippedRows
			}
			if j.State.Pending() && (st.OldestPending == nil || j.Created.Before(st.OldestPending.Created)) {
				st.OldestPending = &OldestPending{ID: j.ID, State: j.State, Target: j.Target, URI: j.URI(), Created: j.Created}
			}
			countError(errs, j, now, o.ErrorsSince)
			return nil
		})
		if err != nil {
			return err
		}
		if err := tx.ForEachMessage(func(journal.Message) error { st.UndeletedMessages++; return nil }); err != nil {
			return err
		}
		st.RejectedMessages, err = countRejected(tx)
		return err
	})
	if err != nil {
		return Stats{}, err
	}
	if st.OldestPending != nil {
		st.OldestPending.AgeSeconds = now.Sub(st.OldestPending.Created).Seconds()
	}
	for name, states := range targets {
		st.Targets = append(st.Targets, TargetStats{Target: name, States: states})
	}
	slices.SortFunc(st.Targets, func(a, b TargetStats) int { return cmp.Compare(a.Target, b.Target) })
	st.Errors = topErrors(errs, o.TopErrors)
	return st, nil
}

// countError adds j's last error if it is failed, or received and waiting
// for another attempt.
func countError(errs map[string]*ErrorCount, j journal.Job, now time.Time, since time.Duration) {
	if j.LastError == "" || (j.State != journal.Failed && j.State != journal.Received) {
		return
	}
	if since > 0 && now.Sub(j.Updated) > since {
		return
	}
	msg := normalizeError(j.LastError)
	if len(msg) > maxErrorLen {
		msg = msg[:maxErrorLen] + "…"
	}
	e := errs[msg]
	if e == nil {
		e = &ErrorCount{Error: msg, Example: j.ID}
		errs[msg] = e
	}
	e.Jobs++
	if j.State == journal.Failed {
		e.Failed++
	} else {
		e.Retrying++
	}
	if j.Updated.After(e.LastSeen) {
		e.LastSeen = j.Updated
	}
}

func topErrors(errs map[string]*ErrorCount, n int) []ErrorCount {
	out := make([]ErrorCount, 0, len(errs))
	for _, e := range errs {
		out = append(out, *e)
	}
	slices.SortFunc(out, func(a, b ErrorCount) int {
		if c := cmp.Compare(b.Jobs, a.Jobs); c != 0 {
			return c
		}
		if c := b.LastSeen.Compare(a.LastSeen); c != 0 {
			return c
		}
		return cmp.Compare(a.Error, b.Error)
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

func zeroStates() map[journal.State]int {
	m := make(map[journal.State]int, len(journal.States))
	for _, s := range journal.States {
		m[s] = 0
	}
	return m
}
