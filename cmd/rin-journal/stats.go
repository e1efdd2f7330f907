package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rinhq/rin/admin"
	"github.com/rinhq/rin/journal"
)

// StatsCommand summarises the journal: jobs per state and target, the
// oldest pending job, the most frequent errors.
type StatsCommand struct {
	env *Env
}

// Run prints the summary.
func (c *StatsCommand) Run(ctx context.Context, args []string) error {
	fs := c.env.newFlagSet("stats", "stats [-top N] [-errors-since D] [-format json|table]")
	var o admin.StatsOptions
	var format string
	fs.IntVar(&o.TopErrors, "top", 5, "how many distinct errors to show")
	fs.Var(&durationFlag{d: &o.ErrorsSince}, "errors-since", "count only errors of jobs updated within this long (default: all failed and retrying jobs)")
	fs.StringVar(&format, "format", "", "json or table (default: table on a terminal, else json)")
	if err := c.env.parseNoArgs(fs, args); err != nil {
		return err
	}
	format, err := c.env.format(format)
	if err != nil {
		return err
	}
	s, err := c.env.open(ctx, readAccess)
	if err != nil {
		return err
	}
	defer s.close()
	st, err := s.Stats(ctx, o)
	if err != nil {
		return err
	}
	if format == "json" {
		enc := json.NewEncoder(c.env.Stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	return printStats(c.env, s, st)
}

func printStats(env *Env, s *session, st admin.Stats) error {
	w := env.Stdout
	var parts []string
	for _, state := range journal.States {
		parts = append(parts, fmt.Sprintf("%s %d", state, st.States[state]))
	}
	fmt.Fprintf(w, "journal:         %s (%s)\n", s.path, s.mode)
	fmt.Fprintf(w, "jobs:            %d (%s)\n", st.Total, strings.Join(parts, ", "))
	if p := st.OldestPending; p != nil {
		fmt.Fprintf(w, "oldest pending:  %s ago, %s %s %s (%s)\n", age(time.Duration(p.AgeSeconds*float64(time.Second))), p.ID, p.State, p.URI, p.Target)
	} else {
		fmt.Fprintln(w, "oldest pending:  none")
	}
	fmt.Fprintf(w, "undeleted SQS messages: %d\n", st.UndeletedMessages)
	if st.PartialLoads > 0 {
		fmt.Fprintf(w, "partial loads:          %d jobs loaded with %d rows skipped under MAXERROR (rin-journal dump shows skipped_rows; stl_load_errors has the rows)\n", st.PartialLoads, st.SkippedRows)
	}
	if st.RejectedMessages > 0 {
		fmt.Fprintf(w, "rejected SQS messages:  %d (see rin-journal rejected)\n", st.RejectedMessages)
	} else {
		fmt.Fprintln(w, "rejected SQS messages:  0")
	}

	if len(st.Targets) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprint(tw, "TARGET\t")
		for _, state := range journal.States {
			fmt.Fprintf(tw, "%s\t", strings.ToUpper(string(state)))
		}
		fmt.Fprintln(tw, "TOTAL")
		for _, t := range st.Targets {
			fmt.Fprintf(tw, "%s\t", t.Target)
			total := 0
			for _, state := range journal.States {
				fmt.Fprintf(tw, "%d\t", t.States[state])
				total += t.States[state]
			}
			fmt.Fprintf(tw, "%d\n", total)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	fmt.Fprintln(w)
	if len(st.Errors) == 0 {
		fmt.Fprintln(w, "errors: none among failed or retrying jobs")
		return nil
	}
	fmt.Fprintln(w, "most frequent errors (failed and retrying jobs):")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JOBS\tFAILED\tRETRYING\tLAST SEEN\tEXAMPLE JOB\tERROR")
	for _, e := range st.Errors {
		fmt.Fprintf(tw, "%d\t%d\t%d\t%s ago\t%s\t%s\n", e.Jobs, e.Failed, e.Retrying, age(st.Generated.Sub(e.LastSeen)), e.Example, oneLine(e.Error, 100))
	}
	return tw.Flush()
}
