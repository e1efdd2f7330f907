package backfill

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// reasonText is a reason as people read it.
var reasonText = map[string]string{
	ReasonNoEvent:    "no event seen",
	ReasonPending:    "pending",
	ReasonHeld:       "held",
	ReasonFailed:     "failed",
	ReasonSuperseded: "superseded",
}

// Write prints the report for people: counts per target, then the
// objects not loaded (with why) and those loaded but gone, at most limit
// of each per target (0: all).
func (rep *Report) Write(w io.Writer, limit int) error {
	fmt.Fprintf(w, "%s: %d objects in S3", strings.Join(rep.Sources, " "), rep.Objects)
	if rep.Since != nil || rep.Until != nil {
		fmt.Fprintf(w, " modified %s", rangeText(rep.Since, rep.Until))
	}
	var notes []string
	if rep.Unrouted > 0 {
		notes = append(notes, fmt.Sprintf("%d matched no target", rep.Unrouted))
	}
	if rep.Discarded > 0 {
		notes = append(notes, fmt.Sprintf("%d discarded by a target", rep.Discarded))
	}
	if len(notes) > 0 {
		fmt.Fprintf(w, " (%s)", strings.Join(notes, ", "))
	}
	fmt.Fprintln(w)
	switch {
	case rep.Ledgers == 0:
		fmt.Fprintln(w, "no ledger read (ledger.disabled): loaded means copied according to the journal, which forgets after journal.retention")
	case !rep.Journal:
		fmt.Fprintln(w, "no journal read: pending, held and failed jobs show as \"no event seen\"")
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tTABLE\tIN S3\tLOADED\tMISSING\tGONE FROM S3")
	for _, t := range rep.Targets {
		tables := strings.Join(t.Tables, ",")
		if len(t.Tables) > 3 {
			tables = fmt.Sprintf("%d tables", len(t.Tables))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\n", t.Target, tables, t.InS3, t.Loaded, len(t.Missing), len(t.Gone))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, t := range rep.Targets {
		if len(t.Missing) > 0 {
			fmt.Fprintf(w, "\n%s: %d in S3, not loaded%s:\n", t.Target, len(t.Missing), first(limit, len(t.Missing)))
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			for i, m := range t.Missing {
				if limit > 0 && i >= limit {
					break
				}
				fmt.Fprintf(tw, "  %s\t%s", reasonText[m.Reason], escapeControl(m.URI))
				if m.Detail != "" {
					fmt.Fprintf(tw, "\t%s", oneLine(m.Detail, 160))
				}
				fmt.Fprintln(tw)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
		if len(t.Gone) > 0 {
			fmt.Fprintf(w, "\n%s: %d loaded, no longer in S3%s:\n", t.Target, len(t.Gone), first(limit, len(t.Gone)))
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			for i, g := range t.Gone {
				if limit > 0 && i >= limit {
					break
				}
				at := ""
				if g.LoadedAt != nil {
					at = "loaded " + g.LoadedAt.UTC().Format(time.DateTime)
				}
				fmt.Fprintf(tw, "  %s\t%s\n", escapeControl(g.URI), at)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
	}
	if rep.Missing > 0 {
		fmt.Fprintf(w, "\n%d not loaded: `rin backfill` with the same arguments loads those with no event seen or superseded; pending and held ones are rin's to load, failed ones need `rin-journal requeue`\n", rep.Missing)
	}
	return nil
}

func first(limit, n int) string {
	if limit > 0 && n > limit {
		return fmt.Sprintf(" (first %d)", limit)
	}
	return ""
}

func rangeText(since, until *time.Time) string {
	switch {
	case since != nil && until != nil:
		return fmt.Sprintf("from %s to %s", since.UTC().Format(time.RFC3339), until.UTC().Format(time.RFC3339))
	case since != nil:
		return "since " + since.UTC().Format(time.RFC3339)
	default:
		return "before " + until.UTC().Format(time.RFC3339)
	}
}
