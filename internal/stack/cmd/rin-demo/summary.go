package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/jackc/pgx/v5"

	"github.com/rinhq/rin/admin"
	"github.com/rinhq/rin/journal"
)

// checks collects what did not come out as expected; the demo exits
// non-zero when there is any.
type checks struct{ failed []string }

// mark returns ✔ or ✘ for ok, remembering what failed.
func (c *checks) mark(ok bool, what string, args ...any) string {
	if ok {
		return "✔"
	}
	c.failed = append(c.failed, fmt.Sprintf(what, args...))
	return "✘"
}

func (c *checks) err() error {
	if len(c.failed) == 0 {
		return nil
	}
	return fmt.Errorf("%d check(s) failed: %s", len(c.failed), strings.Join(c.failed, "; "))
}

// countRows counts every table's rows on the PostgreSQL behind the
// simulator: what a query on the cluster would see after rin's commits.
func countRows(ctx context.Context, dsn string, tables []*table) (map[*table]int64, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	defer conn.Close(context.Background())
	out := make(map[*table]int64, len(tables))
	for _, t := range tables {
		var n int64
		sql := "SELECT count(*) FROM " + pgx.Identifier{t.Schema, t.Name}.Sanitize()
		if err := conn.QueryRow(ctx, sql).Scan(&n); err != nil {
			return nil, fmt.Errorf("%s: %w", sql, err)
		}
		out[t] = n
	}
	return out, nil
}

// printRows prints rows per table next to the expected counts.
func printRows(w io.Writer, p *plan, got map[*table]int64, c *checks) {
	width := len("total")
	for _, t := range p.Tables {
		width = max(width, len(t.QName()))
	}
	fmt.Fprintln(w, "Rows per table (counted on PostgreSQL, behind the simulator):")
	fmt.Fprintf(w, "  %-*s  %7s  %9s  %9s\n", width, "TABLE", "OBJECTS", "ROWS", "EXPECTED")
	var objects int
	var rows, want int64
	for _, t := range p.Tables {
		n := got[t]
		objects += t.Objects
		rows += n
		want += t.Want
		fmt.Fprintf(w, "  %-*s  %7d  %9s  %9s  %s\n", width, t.QName(), t.Objects, commas(n), commas(t.Want),
			c.mark(n == t.Want, "%s has %d rows, want %d", t.QName(), n, t.Want))
	}
	fmt.Fprintf(w, "  %-*s  %7d  %9s  %9s\n", width, "total", objects, commas(rows), commas(want))
}

// journalSummary is what the demo reads from rin's journal after rin exits.
type journalSummary struct {
	Stats admin.Stats
	// DiscardJobs counts jobs for keys of the discard target: must be 0.
	DiscardJobs int
}

// readJournal opens the journal read-only (rin has exited and released it)
// and summarises it with the admin package, as `rin-journal stats` does.
func readJournal(ctx context.Context, path string) (journalSummary, error) {
	j, err := journal.Open(path, journal.Options{ReadOnly: true})
	if err != nil {
		return journalSummary{}, err
	}
	defer j.Close()
	var s journalSummary
	if s.Stats, err = (&admin.Local{Journal: j}).Stats(ctx, admin.StatsOptions{}); err != nil {
		return journalSummary{}, fmt.Errorf("journal stats: %w", err)
	}
	err = j.View(func(tx *journal.Tx) error {
		return tx.ForEachJob("", func(job journal.Job) error {
			if strings.HasPrefix(job.Key, discardPrefix) {
				s.DiscardJobs++
			}
			return nil
		})
	})
	if err != nil {
		return journalSummary{}, fmt.Errorf("read journal: %w", err)
	}
	return s, nil
}

// targetLabel says, for people, what a target of the generated config
// matches (by its index in config.go's targets).
func targetLabel(name string) string {
	switch name {
	case "targets[0]":
		return discardPrefix + "* → discard"
	case "targets[1]":
		return eventsPrefix + "* → demo.events (gzip)"
	case "targets[2]":
		return logsRegexp + " → $1.$2"
	case "targets[3]":
		return ordersPrefix + "* → demo.orders (Parquet)"
	}
	return ""
}

// printJournal prints jobs per state and per target, like `rin-journal
// stats`, and checks that every loadable object is one acked job.
func printJournal(w io.Writer, js journalSummary, p *plan, c *checks) {
	st := js.Stats
	var parts []string
	for _, s := range journal.States {
		parts = append(parts, fmt.Sprintf("%s %d", s, st.States[s]))
	}
	loadable, _ := p.Loadable()
	ok := st.Total == loadable && st.States[journal.Acked] == loadable
	fmt.Fprintf(w, "Journal: %d jobs (%s) %s\n", st.Total, strings.Join(parts, ", "),
		c.mark(ok, "journal has %d jobs, %d acked; want %d, all acked", st.Total, st.States[journal.Acked], loadable))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprint(tw, "  TARGET\tMATCH\t")
	for _, s := range journal.States {
		fmt.Fprintf(tw, "%s\t", strings.ToUpper(string(s)))
	}
	fmt.Fprintln(tw, "TOTAL")
	for _, t := range st.Targets {
		fmt.Fprintf(tw, "  %s\t%s\t", t.Target, targetLabel(t.Target))
		total := 0
		for _, s := range journal.States {
			fmt.Fprintf(tw, "%d\t", t.States[s])
			total += t.States[s]
		}
		fmt.Fprintf(tw, "%d\n", total)
	}
	tw.Flush()
	fmt.Fprintf(w, "  discard target: %d objects under %s matched, %d jobs %s\n", p.Discarded(), discardPrefix, js.DiscardJobs,
		c.mark(js.DiscardJobs == 0, "%d jobs for discarded objects", js.DiscardJobs))
	fmt.Fprintf(w, "  undeleted SQS messages: %d %s\n", st.UndeletedMessages,
		c.mark(st.UndeletedMessages == 0, "%d SQS messages not deleted", st.UndeletedMessages))
	for _, e := range st.Errors {
		fmt.Fprintf(w, "  error on %d job(s) (e.g. %s): %s\n", e.Jobs, e.Example, e.Error)
	}
}
