package admin

import (
	"context"
	"time"

	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/journal"
)

// Service is the set of operations on a journal. Local performs them on an
// open journal (offline, or inside rin); Client performs them through rin's
// admin listener. rin-journal is written against Service alone.
type Service interface {
	// Dump calls fn for every job the filter selects, in the order they
	// were first journaled.
	Dump(ctx context.Context, f Filter, fn func(Record) error) error
	// Rejected calls fn for every rejected (poison) message the filter
	// selects, newest first.
	Rejected(ctx context.Context, f RejectedFilter, fn func(RejectedRecord) error) error
	// Stats summarises the journal.
	Stats(ctx context.Context, o StatsOptions) (Stats, error)
	// Requeue sends failed jobs back to received. It is all or nothing:
	// an unknown id or a job that is not failed changes nothing.
	Requeue(ctx context.Context, r RequeueRequest) ([]Record, error)
	// Forget drops acked jobs older than olderThan (the dedupe window).
	Forget(ctx context.Context, olderThan time.Duration) (ForgetResult, error)
	// Check verifies the journal and returns what is wrong, if anything.
	Check(ctx context.Context) ([]string, error)
}

// Requeuer is what requeue needs of a running engine: the engine must
// learn of requeued jobs, or they would sit in received until a restart.
// *fsm.Engine implements it.
type Requeuer interface {
	Requeue(ids []string) ([]journal.Job, error)
}

// Engine is what the admin server needs of a running engine: requeue, and
// the counters behind /metrics. *fsm.Engine implements it.
type Engine interface {
	Requeuer
	Stats() fsm.Stats
	Holds() []fsm.Hold
}

// RequeueRequest names the jobs to requeue: IDs, or every failed job
// (AllFailed), optionally only those of Target.
type RequeueRequest struct {
	IDs       []string `json:"ids,omitempty"`
	AllFailed bool     `json:"all_failed,omitempty"`
	Target    string   `json:"target,omitempty"`
}

// ForgetResult is what Forget did.
type ForgetResult struct {
	Forgotten int `json:"forgotten"`
	// RejectedForgotten counts rejected messages older than the cutoff,
	// dropped with the jobs.
	RejectedForgotten int       `json:"rejected_forgotten"`
	Cutoff            time.Time `json:"cutoff"` // acked jobs last updated before this were dropped
}
