package fsm

import (
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/rinhq/rin/journal"
)

// planner is an engine that is never run: the tests call plan with the
// clock of their choice, so no assertion depends on timing.
func planner(t *testing.T) *Engine {
	t.Helper()
	e := New(nil, nil, nil, nil, Options{
		Batch:  BatchOptions{MaxFiles: 100, MaxAge: time.Hour, Concurrency: 4},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	e.receiving = 1 // a receiver runs: jobs may still join a batch
	return e
}

// ready makes n received jobs for table, due at t, as an admission does.
func ready(e *Engine, table string, n int, t time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	base := len(e.jobs)
	for i := range n {
		j := &journal.Job{
			ID: fmt.Sprintf("%s-%d", table, base+i), State: journal.Received, Target: table,
			Endpoint: "ep", Schema: "public", Table: table, Manifest: true,
			Bucket: "b", Key: fmt.Sprintf("%s/%d", table, base+i), Size: 10, Created: t,
		}
		e.jobs[j.ID] = j
		e.readyAt[j.ID] = t
		e.enqueue(j, t)
	}
}

func sizes(bs []plannedBatch) map[string][]int {
	out := map[string][]int{}
	for _, b := range bs {
		out[b.Dest.Table] = append(out[b.Dest.Table], len(b.Jobs))
	}
	return out
}

// TestBatchStartsWhenIntakeStops pins group commit per table (pace.go): a
// batch that is not full starts before max_age once nothing has joined it
// for a quiet spell, if it holds at least half of max_files and its
// table has no batch in flight; a trickle still waits for max_age.
func TestBatchStartsWhenIntakeStops(t *testing.T) {
	e := planner(t)
	quiet := quietSpell(e.opts.Batch.MaxAge)
	t0 := time.Now()

	ready(e, "big", 60, t0)   // 60 of max_files 100: worth a COPY of its own
	ready(e, "small", 49, t0) // under half: a trickle
	if bs, next := e.plan(t0.Add(quiet / 2)); len(bs) != 0 || !next.Equal(t0.Add(quiet)) {
		t.Fatalf("jobs still arriving: planned %v, next plan at +%s; want nothing before +%s", sizes(bs), next.Sub(t0), quiet)
	}
	// A job joining restarts the quiet spell.
	ready(e, "big", 10, t0.Add(quiet/2))
	if bs, _ := e.plan(t0.Add(quiet)); len(bs) != 0 {
		t.Fatalf("a job joined %s ago: planned %v, want nothing", quiet/2, sizes(bs))
	}
	bs, next := e.plan(t0.Add(quiet/2 + quiet))
	if got := sizes(bs); len(bs) != 1 || got["big"][0] != 70 {
		t.Fatalf("intake stopped: planned %v, want one batch of big's 70 jobs and none of small's 49", got)
	}
	if want := t0.Add(quiet/2 + quiet + time.Second); next.After(want) {
		t.Fatalf("next plan at +%s, want by +%s", next.Sub(t0), want.Sub(t0))
	}

	// While big's batch runs, its next batch accumulates: it starts when the
	// running one ends (or at max_age), not after a quiet spell.
	ready(e, "big", 50, t0.Add(2*quiet))
	if bs, _ := e.plan(t0.Add(4 * quiet)); len(bs) != 0 {
		t.Fatalf("big has a batch in flight: planned %v, want nothing", sizes(bs))
	}
	e.mu.Lock()
	e.pace.ended(Destination{Endpoint: "ep", Schema: "public", Table: "big", Manifest: true, Bucket: "b"})
	e.mu.Unlock()
	if bs, _ := e.plan(t0.Add(4 * quiet)); len(sizes(bs)["big"]) != 1 || sizes(bs)["big"][0] != 50 {
		t.Fatalf("big's batch ended: planned %v, want big's 50 jobs", sizes(bs))
	}

	// The trickle waits for max_age, as before.
	if bs, _ := e.plan(t0.Add(e.opts.Batch.MaxAge - time.Millisecond)); len(bs) != 0 {
		t.Fatalf("before max_age: planned %v, want nothing", sizes(bs))
	}
	if bs, _ := e.plan(t0.Add(e.opts.Batch.MaxAge)); sizes(bs)["small"][0] != 49 {
		t.Fatalf("at max_age: planned %v, want small's 49 jobs", sizes(bs))
	}
}
