package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/rinhq/rin/admin"
	"github.com/rinhq/rin/backfill"
	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/journal"
)

// ReconcileCommand is `rin reconcile -config C s3://bucket/prefix/ ...`: per
// target, what is in S3 and loaded, in S3 and not loaded (and why), and
// loaded but no longer in S3. It reads the ledger in Redshift, so it covers
// objects loaded before the journal's retention too, and the journal
// (through the running rin, or the file) for jobs still pending or failed.
type ReconcileCommand struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

// errMissing: reconcile found objects in S3 that are not loaded.
var errMissing = errors.New("not everything in S3 is loaded")

// Run parses args, reconciles and prints the report; it returns an error
// (wrapping errMissing) when something in S3 is not loaded.
func (c *ReconcileCommand) Run(ctx context.Context, args []string) error {
	var f toolFlags
	var asJSON bool
	var limit int
	fs := flag.NewFlagSet("reconcile", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	f.register(fs, c.Getenv)
	fs.BoolVar(&asJSON, "json", false, "print the report as one JSON document")
	fs.IntVar(&limit, "limit", 0, "list at most this many objects per target and kind in the table (0: all)")
	fs.Usage = func() {
		fmt.Fprintf(c.Stderr, "Usage: rin reconcile [flags] s3://bucket/prefix/ ...\n\n"+
			"Reports per target what under the prefixes is in S3 and loaded, in S3 and not loaded (no event seen,\n"+
			"pending, held, failed, superseded), and loaded but no longer in S3, from the ledger in Redshift and\n"+
			"rin's journal. Exit status 1 when something in S3 is not loaded.\n\nFlags:\n")
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

	o := backfill.ReconcileOptions{
		Sources: srcs, Since: f.since.t, Until: f.until.t, Versions: backfill.Versions(f.versions),
		Skip: t.cfg.IsManifestKey, S3: lister{t}, Router: t.cfg, Ledgers: map[string]backfill.LedgerRows{},
	}
	jr, holds, closeJournal, err := journalFor(ctx, t)
	if err != nil {
		return err
	}
	defer closeJournal()
	o.Journal, o.Holds = jr, holds
	for _, ep := range t.cfg.Endpoints() {
		l, err := t.ledger(ep.Endpoint())
		if err != nil {
			return err
		}
		if l != nil {
			o.Ledgers[ep.Endpoint()] = l
		}
	}
	rep, err := backfill.Reconcile(ctx, o)
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	if asJSON {
		enc := json.NewEncoder(c.Stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = rep.Write(c.Stdout, limit)
	}
	if err != nil {
		return err
	}
	if rep.Missing > 0 {
		return fmt.Errorf("reconcile: %w: %d jobs of objects in S3 are not", errMissing, rep.Missing)
	}
	return nil
}

// journalFor reads the journal through the running rin (with the scopes it
// holds), else the file read-only; nil when there is no journal.
func journalFor(ctx context.Context, t *tool) (backfill.JournalReader, []fsm.Hold, func(), error) {
	live, err := t.dialRin(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	if live != nil {
		holds, err := live.Holds(ctx)
		if err != nil {
			live.Close()
			return nil, nil, nil, err
		}
		return live, holds, func() { live.Close() }, nil
	}
	j, err := journal.Open(t.cfg.Journal.Path, journal.Options{ReadOnly: true, MustExist: true})
	if errors.Is(err, journal.ErrNotExist) {
		t.log.Warn("no journal: reporting from the ledger alone", "journal", t.cfg.Journal.Path)
		return nil, nil, func() {}, nil
	}
	if err != nil {
		return nil, nil, nil, err
	}
	return &admin.Local{Journal: j}, nil, func() { j.Close() }, nil
}
