package lambdamode

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/journal"
)

// Handler serves SQS events with rin's engine. One Handler lives as long as
// its execution environment; each invocation gets its own journal and
// engine, and all share the Copier (and so its connection pool). Handle is
// safe for concurrent use, for runtimes that run invocations side by side.
type Handler struct {
	cfg    *config.Config
	copier fsm.Copier
	opts   Options
	log    *slog.Logger
}

// New returns a Handler routing by cfg's targets and loading through copier.
func New(cfg *config.Config, copier fsm.Copier, opts Options) *Handler {
	if opts.Poison == "" {
		opts.Poison = PoisonDrop
	}
	if opts.TempDir == "" {
		opts.TempDir = os.TempDir()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Handler{cfg: cfg, copier: copier, opts: opts, log: opts.Logger}
}

// Handle loads the objects an event's records announce and reports, in
// batchItemFailures, the records whose objects are not all loaded. It
// returns an error — Lambda then deletes nothing and retries every record —
// only when it could not even start: a record without an id, or no journal.
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	start := time.Now()
	log := h.log
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		log = log.With("request_id", lc.AwsRequestID)
	}
	q, err := NewQueue(ev.Records)
	if err != nil {
		log.Error("invocation refused: every record goes back to the queue", "records", len(ev.Records), "err", err)
		return events.SQSEventResponse{}, err
	}
	if q.Len() == 0 {
		return events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}, nil
	}
	deadline, hasDeadline := ctx.Deadline()
	plan := planStop(start, deadline, hasDeadline, h.opts.Margin)
	o, stats, err := h.run(ctx, q, plan, log)
	if err != nil {
		log.Error("invocation failed before loading: every record goes back to the queue", "records", len(ev.Records), "err", err)
		return events.SQSEventResponse{}, err
	}
	h.report(log, o, stats, time.Since(start), plan, start)
	resp := events.SQSEventResponse{BatchItemFailures: make([]events.SQSBatchItemFailure, 0, len(o.failures))}
	for _, id := range o.failures {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
	}
	return resp, nil
}

// run is one invocation: a fresh journal, an engine over q until every
// record is done or the plan stops it, then the outcome read back. Only a
// failure to set up is an error; once the engine has run, whatever went
// wrong is in the outcome.
func (h *Handler) run(ctx context.Context, q *Queue, plan stopPlan, log *slog.Logger) (outcome, fsm.Stats, error) {
	dir, err := os.MkdirTemp(h.opts.TempDir, "rin-lambda-")
	if err != nil {
		return outcome{}, fsm.Stats{}, fmt.Errorf("journal directory: %w", err)
	}
	defer func() {
		if err := os.RemoveAll(dir); err != nil {
			log.Warn("cannot remove the invocation's journal", "dir", dir, "err", err)
		}
	}()
	// No fsync: the file is dropped when the invocation returns and never
	// read by a later one, so a crash loses nothing the ledger does not
	// hold. Durability here would only cost time.
	j, err := journal.Open(filepath.Join(dir, "journal.db"), journal.Options{NoSync: true})
	if err != nil {
		return outcome{}, fsm.Stats{}, err
	}
	defer j.Close()

	engine := fsm.New(j, q, h.cfg, h.copier, engineOptions(h.cfg, plan.grace, log))
	runCtx := ctx
	if !plan.stopAt.IsZero() {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithDeadline(ctx, plan.stopAt)
		defer cancel()
	}
	if err := engine.Run(runCtx); err != nil {
		// The journal failed (the engine stops on nothing else): records
		// not deleted go back; the journal is read below if it still can be.
		log.Error("engine stopped early", "err", err)
	}
	stats := engine.Stats()
	v, err := readJournal(j)
	if err != nil {
		log.Error("cannot tell which records loaded: every record goes back to the queue (the ledger keeps loaded ones from loading twice)", "err", err)
		return allFailed(q.Messages()), stats, nil
	}
	return decide(q.Messages(), q.Undeleted(), v, h.opts.Poison), stats, nil
}

// report logs what the invocation did: poison messages whole (no journal
// keeps them), then one summary line.
func (h *Handler) report(log *slog.Logger, o outcome, s fsm.Stats, took time.Duration, plan stopPlan, start time.Time) {
	for _, r := range o.poison {
		if h.opts.Poison == PoisonRedrive {
			log.Warn("poison message returned to the queue for its redrive policy", "message_id", r.ID, "reason", r.Reason, "body", r.Body)
		} else {
			log.Warn("poison message dropped; its whole body is in this line", "message_id", r.ID, "reason", r.Reason, "body", r.Body)
		}
	}
	attrs := []any{
		"records", len(o.failures) + o.done, "done", o.done, "returned", len(o.failures),
		"pending", len(o.pending), "failed_objects", len(o.failed), "poison", len(o.poison),
		"jobs", s.JobsAdmitted, "copied", s.Copied, "duplicates", s.Duplicates, "rows", s.Rows,
		"seconds", took.Round(time.Millisecond).Seconds(),
	}
	if !plan.stopAt.IsZero() {
		attrs = append(attrs, "stop_after", plan.stopAt.Sub(start).Round(time.Millisecond).Seconds())
	}
	switch {
	case len(o.pending) > 0:
		log.Warn("invocation done; records not loaded go back to the queue (jobs still pending when it stopped: an outage, or too little time)", attrs...)
	case len(o.failures) > 0:
		log.Warn("invocation done; records go back to the queue", attrs...)
	default:
		log.Info("invocation done", attrs...)
	}
}
