package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/rinhq/rin/admin"
	"github.com/rinhq/rin/backfill"
	"github.com/rinhq/rin/journal"
)

// BackfillCommand is `rin backfill -config C s3://bucket/prefix/ ...`: it
// loads the objects under the prefixes that no event brought, through the
// engine of the running rin (over its admin socket) or, when none runs, an
// engine of its own on the journal. See package backfill.
type BackfillCommand struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

// Run parses args, backfills, prints a summary per target and returns an
// error (wrapping backfill.ErrIncomplete) unless every object is loaded.
func (c *BackfillCommand) Run(ctx context.Context, args []string) error {
	var f toolFlags
	var dryRun, asJSON bool
	var timeout time.Duration
	fs := flag.NewFlagSet("backfill", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	f.register(fs, c.Getenv)
	fs.BoolVar(&dryRun, "dry-run", false, "list and check only: print what would load per target")
	fs.BoolVar(&asJSON, "json", false, "print the summary as one JSON document")
	fs.DurationVar(&timeout, "timeout", 0, "stop following the jobs after this long (they stay in rin's journal and load later); 0 = until done")
	fs.Usage = func() {
		fmt.Fprintf(c.Stderr, "Usage: rin backfill [flags] s3://bucket/prefix/ ...\n\n"+
			"Loads the objects under the prefixes that are not loaded yet (no S3 event reached rin), exactly as\n"+
			"their events would have: same targets, same batching, same ledger. While rin runs it hands the jobs\n"+
			"to rin through its admin socket; otherwise it loads them itself. Exit status 0 when every object is\n"+
			"loaded, 1 otherwise (with a summary per target).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	srcs, err := parseSources(fs, args)
	if err != nil {
		return err
	}
	log := toolLogger(c.Stderr, f)
	t, err := openTool(ctx, f, log)
	if err != nil {
		return err
	}
	defer t.close()

	live, err := t.dialRin(ctx)
	if err != nil {
		return err
	}
	var sink backfill.Sink
	var local *localEngine
	switch {
	case live != nil:
		defer live.Close()
		sink = live
		log.Info("handing jobs to the running rin", "pid", live.Health().PID, "socket", t.cfg.Admin.Socket)
	case dryRun:
		s, closeJournal, err := offlineSink(t.cfg.Journal.Path)
		if err != nil {
			return err
		}
		defer closeJournal()
		sink = s
	default:
		if local, err = startLocal(ctx, t); err != nil {
			return err
		}
		sink = local.sink()
	}

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if timeout > 0 {
		var stop context.CancelFunc
		runCtx, stop = context.WithTimeoutCause(runCtx, timeout, fmt.Errorf("-timeout %s reached", timeout))
		defer stop()
	}
	if local != nil {
		go func() {
			select {
			case <-local.finished:
				if local.err != nil {
					cancel(fmt.Errorf("backfill's engine stopped: %w", local.err))
				}
			case <-runCtx.Done():
			}
		}()
	}
	pr := &backfill.Printer{W: c.Stderr, Terminal: isTerminal(c.Stderr)}
	var last backfill.Progress
	opts := backfill.Options{
		Sources: srcs, List: t.listOptions(f), S3: lister{t}, Router: t.cfg, Sink: sink,
		Ledger: func(ep string) (backfill.Ledger, error) {
			l, err := t.ledger(ep)
			if l == nil || err != nil {
				return nil, err
			}
			return l, nil
		},
		DryRun: dryRun, MaxPending: t.cfg.Receive.MaxPending, Log: log,
	}
	if !dryRun { // a dry run's output is its summary
		opts.Progress = func(p backfill.Progress) { last = p; pr.Update(p) }
	}
	if local != nil {
		opts.Listed = local.listed
	}
	sum, runErr := backfill.Run(runCtx, opts)
	if local != nil {
		if err := local.stop(); err != nil && runErr == nil {
			runErr = err
		}
	}
	if !dryRun {
		pr.Done(last)
	}
	if asJSON {
		enc := json.NewEncoder(c.Stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(sum)
	} else {
		err = sum.Write(c.Stdout)
	}
	if err != nil {
		return err
	}
	switch {
	case runErr != nil && ctx.Err() != nil:
		return fmt.Errorf("backfill interrupted; %d jobs not loaded yet: %w", sum.NotLoaded(), backfill.ErrIncomplete)
	case runErr != nil && runCtx.Err() != nil:
		return fmt.Errorf("backfill: %w; %d jobs not loaded yet: %w", context.Cause(runCtx), sum.NotLoaded(), backfill.ErrIncomplete)
	case runErr != nil:
		return fmt.Errorf("backfill: %w", runErr)
	case !dryRun && !sum.Complete():
		return fmt.Errorf("backfill: %d jobs not loaded (see the summary): %w", sum.NotLoaded(), backfill.ErrIncomplete)
	}
	return nil
}

// offlineSink looks jobs up in the journal file, read-only, for a dry run
// with no rin running; without a journal nothing is known.
func offlineSink(path string) (backfill.Sink, func(), error) {
	j, err := journal.Open(path, journal.Options{ReadOnly: true, MustExist: true})
	if errors.Is(err, journal.ErrNotExist) {
		return noJournal{}, func() {}, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return &admin.Local{Journal: j}, func() { j.Close() }, nil
}

// noJournal is the sink of a dry run without a journal: it knows no job.
type noJournal struct{}

func (noJournal) Submit(context.Context, []journal.Job) (admin.SubmitResult, error) {
	return admin.SubmitResult{}, errors.New("no journal to submit to")
}

func (noJournal) Lookup(context.Context, []string) ([]admin.JobStatus, error) { return nil, nil }
