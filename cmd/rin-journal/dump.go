package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rinhq/rin/admin"
	"github.com/rinhq/rin/journal"
)

// DumpCommand lists jobs: JSON lines (stable field names, for jq) or an
// aligned table for people.
type DumpCommand struct {
	env *Env
}

// Run parses the flags and dumps the jobs they select.
func (c *DumpCommand) Run(ctx context.Context, args []string) error {
	fs := c.env.newFlagSet("dump", "dump [-state S] [-target T] [-prefix P] [-older-than D] [-newer-than D] [-limit N] [-format json|table]")
	var f admin.Filter
	var state, format string
	fs.StringVar(&state, "state", "", "only jobs in this state: received, copying, copied, acked or failed")
	fs.StringVar(&f.Target, "target", "", "only jobs of this target, e.g. 'targets[1]'")
	fs.StringVar(&f.KeyPrefix, "prefix", "", "only objects whose key starts with this (or whose URI does, if it starts with s3://)")
	fs.Var(&durationFlag{d: &f.OlderThan}, "older-than", "only jobs journaled longer ago than this (e.g. 2h, 7d)")
	fs.Var(&durationFlag{d: &f.NewerThan}, "newer-than", "only jobs journaled within this long (e.g. 30m)")
	fs.IntVar(&f.Limit, "limit", 0, "stop after this many jobs (0: all)")
	fs.StringVar(&format, "format", "", "json (one job per line) or table (default: table on a terminal, else json)")
	if err := c.env.parseNoArgs(fs, args); err != nil {
		return err
	}
	f.State = journal.State(state)
	format, err := c.env.format(format)
	if err != nil {
		return err
	}
	if err := f.Validate(); err != nil {
		return err
	}
	s, err := c.env.open(ctx, readAccess)
	if err != nil {
		return err
	}
	defer s.close()
	if format == "json" {
		return dumpJSON(ctx, c.env, s, f)
	}
	return dumpTable(ctx, c.env, s, f)
}

func dumpJSON(ctx context.Context, env *Env, s *session, f admin.Filter) error {
	w := bufio.NewWriter(env.Stdout)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := s.Dump(ctx, f, func(r admin.Record) error { return enc.Encode(r) }); err != nil {
		return err
	}
	return w.Flush()
}

// dumpTable prints the jobs oldest first, which is how people read a
// backlog; it holds them in memory to sort (JSON lines stream in journal
// order, which is the order jobs were first journaled).
func dumpTable(ctx context.Context, env *Env, s *session, f admin.Filter) error {
	var recs []admin.Record
	if err := s.Dump(ctx, f, func(r admin.Record) error { recs = append(recs, r); return nil }); err != nil {
		return err
	}
	slices.SortStableFunc(recs, func(a, b admin.Record) int { return a.Created.Compare(b.Created) })
	now := time.Now()
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tTARGET\tATTEMPTS\tAGE\tUPDATED\tURI\tLAST ERROR / NOTE")
	for _, r := range recs {
		why := r.LastError
		if why == "" {
			why = r.Note // why a job ended superseded or removed
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", r.ID, r.State, r.Target, r.Attempts,
			age(now.Sub(r.Created)), age(now.Sub(r.Updated))+" ago", r.URI, oneLine(why, 80))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "%s (%s)\n", plural(len(recs), "job"), s.mode)
	return nil
}

// age formats a duration for a table: two units at most ("3d4h", "12m").
func age(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
}

// oneLine keeps a table row on one line and within n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// plural is "1 job", "2 jobs".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
