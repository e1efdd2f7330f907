package backfill

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/rinhq/rin/journal"
)

// outcome is where a job of the run ended.
type outcome int

const (
	outAlready   outcome = iota // loaded before this run
	outLoaded                   // loaded by this run (or by rin meanwhile)
	outWouldLoad                // dry run: would be submitted
	outPending                  // still pending in rin when the run stopped
	outHeld                     // pending behind a held scope when the run stopped
	outFailed                   // parked failed (or its target cannot take it)
	outChanged                  // superseded or removed: the object changed or went away since it was listed
	nOutcomes
)

// maxExamples bounds the objects a summary names per target and outcome.
const maxExamples = 20

// Summary is what a run did, per target.
type Summary struct {
	Sources []string
	DryRun  bool
	// Objects were listed (within -since/-until); Unrouted matched no
	// target, Discarded a discard target. Skipped are rin's own manifests,
	// OutOfRange objects outside -since/-until.
	Objects, Unrouted, Discarded, Skipped, OutOfRange int
	targets                                           map[string]*TargetSummary
}

// TargetSummary counts one target's jobs by outcome.
type TargetSummary struct {
	Target string
	// Tables are the destinations its jobs went to (several for a
	// key_regexp target naming the table).
	Tables map[string]bool
	counts [nOutcomes]int
	// NotLoaded names some of the jobs left pending, held or failed, with why.
	NotLoaded []NotLoaded
}

// NotLoaded is a job the run could not get loaded.
type NotLoaded struct {
	URI   string `json:"uri"`
	State string `json:"state"` // pending, held or failed
	Why   string `json:"why"`
}

func newSummary(srcs []Source, dry bool) *Summary {
	s := &Summary{DryRun: dry, targets: map[string]*TargetSummary{}}
	for _, src := range srcs {
		s.Sources = append(s.Sources, src.String())
	}
	return s
}

func (s *Summary) object(p planned) {
	s.Objects++
	switch {
	case p.unrouted:
		s.Unrouted++
	case p.discarded:
		s.Discarded++
	}
}

func (s *Summary) add(j journal.Job, o outcome, why string) {
	t := s.targets[j.Target]
	if t == nil {
		t = &TargetSummary{Target: j.Target, Tables: map[string]bool{}}
		s.targets[j.Target] = t
	}
	t.Tables[destination(j)] = true
	t.counts[o]++
	if o >= outPending && len(t.NotLoaded) < maxExamples*3 {
		t.NotLoaded = append(t.NotLoaded, NotLoaded{URI: j.URI(), State: o.String(), Why: why})
	}
}

func (s *Summary) total(o outcome) int {
	n := 0
	for _, t := range s.targets {
		n += t.counts[o]
	}
	return n
}

// Targets returns the per-target summaries in config order.
func (s *Summary) Targets() []*TargetSummary {
	out := make([]*TargetSummary, 0, len(s.targets))
	for _, t := range s.targets {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return targetLess(out[i].Target, out[j].Target) })
	return out
}

// NotLoaded counts the jobs left pending, held or failed.
func (s *Summary) NotLoaded() int {
	return s.total(outPending) + s.total(outHeld) + s.total(outFailed)
}

// Complete reports whether every job of every listed object is loaded.
func (s *Summary) Complete() bool { return s.NotLoaded() == 0 }

// MarshalJSON is the summary for scripts (rin backfill -json).
func (s *Summary) MarshalJSON() ([]byte, error) {
	type target struct {
		Target    string      `json:"target"`
		Tables    []string    `json:"tables"`
		Jobs      int         `json:"jobs"`
		Already   int         `json:"already"`
		Loaded    int         `json:"loaded"`
		WouldLoad int         `json:"would_load"`
		Pending   int         `json:"pending"`
		Held      int         `json:"held"`
		Failed    int         `json:"failed"`
		Changed   int         `json:"changed"`
		NotLoaded []NotLoaded `json:"not_loaded"`
	}
	out := struct {
		Sources    []string `json:"sources"`
		DryRun     bool     `json:"dry_run"`
		Objects    int      `json:"objects"`
		Unrouted   int      `json:"unrouted"`
		Discarded  int      `json:"discarded"`
		Skipped    int      `json:"skipped"`
		OutOfRange int      `json:"out_of_range"`
		Targets    []target `json:"targets"`
		NotLoaded  int      `json:"not_loaded"`
		Complete   bool     `json:"complete"`
	}{Sources: s.Sources, DryRun: s.DryRun, Objects: s.Objects, Unrouted: s.Unrouted, Discarded: s.Discarded,
		Skipped: s.Skipped, OutOfRange: s.OutOfRange, Targets: []target{}, NotLoaded: s.NotLoaded(), Complete: s.Complete()}
	for _, t := range s.Targets() {
		tg := target{Target: t.Target, Already: t.counts[outAlready], Loaded: t.counts[outLoaded], WouldLoad: t.counts[outWouldLoad],
			Pending: t.counts[outPending], Held: t.counts[outHeld], Failed: t.counts[outFailed],
			Changed: t.counts[outChanged], NotLoaded: t.NotLoaded}
		for _, n := range t.counts {
			tg.Jobs += n
		}
		for tbl := range t.Tables {
			tg.Tables = append(tg.Tables, tbl)
		}
		sort.Strings(tg.Tables)
		if tg.NotLoaded == nil {
			tg.NotLoaded = []NotLoaded{}
		}
		out.Targets = append(out.Targets, tg)
	}
	return json.Marshal(out)
}

func (o outcome) String() string {
	return [...]string{"already loaded", "loaded", "would load", "pending", "held", "failed", "changed"}[o]
}

// Write prints the summary for people: a table per target, then the
// objects not loaded, with why.
func (s *Summary) Write(w io.Writer) error {
	verb := "loaded"
	if s.DryRun {
		verb = "would load"
	}
	fmt.Fprintf(w, "%s: %d objects listed", strings.Join(s.Sources, " "), s.Objects)
	var extra []string
	for _, e := range []struct {
		n    int
		what string
	}{{s.Unrouted, "matched no target"}, {s.Discarded, "discarded by a target"}, {s.Skipped, "rin manifests skipped"}, {s.OutOfRange, "outside -since/-until"}} {
		if e.n > 0 {
			extra = append(extra, fmt.Sprintf("%d %s", e.n, e.what))
		}
	}
	if len(extra) > 0 {
		fmt.Fprintf(w, " (%s)", strings.Join(extra, ", "))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "TARGET\tTABLE\tJOBS\tALREADY\t%s\tPENDING\tHELD\tFAILED\tCHANGED\n", strings.ToUpper(verb))
	for _, t := range s.Targets() {
		now := t.counts[outLoaded]
		if s.DryRun {
			now = t.counts[outWouldLoad]
		}
		total := 0
		for _, n := range t.counts {
			total += n
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", t.Target, t.tables(), total, t.counts[outAlready], now,
			t.counts[outPending], t.counts[outHeld], t.counts[outFailed], t.counts[outChanged])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, t := range s.Targets() {
		if len(t.NotLoaded) == 0 {
			continue
		}
		n := t.counts[outPending] + t.counts[outHeld] + t.counts[outFailed] + t.counts[outChanged]
		fmt.Fprintf(w, "\n%s: %d not loaded", t.Target, n)
		if n > len(t.NotLoaded) {
			fmt.Fprintf(w, " (first %d)", len(t.NotLoaded))
		}
		fmt.Fprintln(w, ":")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, nl := range t.NotLoaded {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", nl.State, escapeControl(nl.URI), oneLine(nl.Why, 160))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if s.total(outChanged) > 0 {
		fmt.Fprintln(w, "\nchanged: objects rewritten or deleted since they were listed (superseded or removed in the journal); a rewritten one loads with its own event, or with the next backfill")
	}
	if s.total(outFailed) > 0 {
		fmt.Fprintln(w, "\nfailed jobs stay parked: fix the cause, then `rin-journal requeue -all-failed` (rin loads them; backfill again to follow)")
	}
	if s.total(outPending)+s.total(outHeld) > 0 && !s.DryRun {
		fmt.Fprintln(w, "\npending and held jobs are in rin's journal: rin goes on loading them (held ones once the fault is fixed); run backfill again to follow them")
	}
	return nil
}

func (t *TargetSummary) tables() string {
	if len(t.Tables) == 1 {
		for k := range t.Tables {
			return k
		}
	}
	return strconv.Itoa(len(t.Tables)) + " tables"
}

// targetLess orders "targets[2]" before "targets[10]".
func targetLess(a, b string) bool {
	na, ea := targetIndex(a)
	nb, eb := targetIndex(b)
	if ea == nil && eb == nil && na != nb {
		return na < nb
	}
	return a < b
}

func targetIndex(name string) (int, error) {
	s := strings.TrimSuffix(strings.TrimPrefix(name, "targets["), "]")
	return strconv.Atoi(s)
}

// oneLine keeps the first line of s, at most n bytes, control characters
// escaped: errors quote keys, and keys are anyone's data.
func oneLine(s string, n int) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " …"
	}
	if len(s) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return escapeControl(s)
}

// escapeControl renders control characters visibly, so a hostile key
// cannot steer the terminal.
func escapeControl(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			fmt.Fprintf(&b, `\x%02x`, r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
