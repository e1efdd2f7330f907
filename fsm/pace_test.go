package fsm

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/rinhq/rin/journal"
	"github.com/rinhq/rin/sqsx"
)

// planner is an engine that is never run: the tests call plan with the
// clock of their choice, so no assertion depends on timing.
func planner(tb testing.TB) *Engine {
	tb.Helper()
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
	base := e.jobs.len()
	for i := range n {
		j := &journal.Job{
			ID: fmt.Sprintf("%s-%d", table, base+i), State: journal.Received, Target: table,
			Endpoint: "ep", Schema: "public", Table: table, Manifest: true,
			Bucket: "b", Key: fmt.Sprintf("%s/%d", table, base+i), Size: 10, Created: t,
		}
		e.jobs.set(j, t)
		e.enqueue(j, t)
	}
}

// receive is one receive call of n messages, begun and ended at t.
func receive(e *Engine, n int, t time.Time) {
	e.receiveBegan(t)
	e.receiveEnded(n, 0, t)
}

func sizes(bs []plannedBatch) map[string][]int {
	out := map[string][]int{}
	for _, b := range bs {
		out[b.Dest.Table] = append(out[b.Dest.Table], len(b.Jobs))
	}
	return out
}

// TestBatchStartsWhenIntakeStops pins group commit per table (pace.go): a
// batch that is not full starts before max_age once the intake has stopped
// feeding it (a short receive after its last job, then a quiet spell), if it
// holds at least half of max_files and its table has no batch in flight; a
// trickle still waits for max_age.
func TestBatchStartsWhenIntakeStops(t *testing.T) {
	e := planner(t)
	q := quietSpell(e.opts.Batch.MaxAge)
	t0 := time.Now()
	at := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(q))) }
	plan := func(now time.Time) map[string][]int { bs, _ := e.plan(now); return sizes(bs) }

	ready(e, "big", 60, t0)   // 60 of max_files 100: worth a COPY of its own
	ready(e, "small", 49, t0) // under half: a trickle
	receive(e, 10, at(0.5))
	if got := plan(at(2)); len(got) != 0 {
		t.Fatalf("quiet, but every receive came back full (a slow receive, not the end of the queue): planned %v, want nothing", got)
	}
	// A job joins; the queue runs dry just after: big starts once quiet.
	ready(e, "big", 10, at(2))
	receive(e, 0, at(2.25))
	if bs, next := e.plan(at(2.5)); len(bs) != 0 || !next.Equal(at(3)) {
		t.Fatalf("a job joined %s ago: planned %v, next plan at +%s; want nothing before +%s", q/2, sizes(bs), next.Sub(t0), at(3).Sub(t0))
	}
	if got := plan(at(3)); len(got) != 1 || len(got["big"]) != 1 || got["big"][0] != 70 {
		t.Fatalf("intake stopped: planned %v, want one batch of big's 70 jobs and none of small's 49", got)
	}
	// A short receive before a destination's last job says nothing about it.
	ready(e, "late", 60, at(3))
	if got := plan(at(5)); len(got) != 0 {
		t.Fatalf("late's jobs joined after the last short receive: planned %v, want nothing", got)
	}
	receive(e, 7, at(5))
	if got := plan(at(5)); len(got["late"]) != 1 || got["late"][0] != 60 {
		t.Fatalf("after a short receive: planned %v, want late's 60 jobs", got)
	}

	// While big's batch runs, its next batch accumulates: it starts when the
	// running one ends (or at max_age), not after a quiet spell.
	ready(e, "big", 50, at(6))
	receive(e, 0, at(6.1))
	if got := plan(at(8)); len(got) != 0 {
		t.Fatalf("big has a batch in flight: planned %v, want nothing", got)
	}
	e.mu.Lock()
	e.pace.ended(Destination{Endpoint: "ep", Schema: "public", Table: "big", Manifest: true, Bucket: "b"})
	e.mu.Unlock()
	if got := plan(at(8)); len(got["big"]) != 1 || got["big"][0] != 50 {
		t.Fatalf("big's batch ended: planned %v, want big's 50 jobs", got)
	}

	// The trickle waits for max_age, as before.
	if got := plan(t0.Add(e.opts.Batch.MaxAge - time.Millisecond)); len(got) != 0 {
		t.Fatalf("before max_age: planned %v, want nothing", got)
	}
	if got := plan(t0.Add(e.opts.Batch.MaxAge)); len(got["small"]) != 1 || got["small"][0] != 49 {
		t.Fatalf("at max_age: planned %v, want small's 49 jobs", got)
	}
}

// TestBatchStartsWhenEveryReceiverWaits pins the other sign that the intake
// has stopped: every receiver has been in its receive (a long poll, which
// returns as soon as the queue has a message) for dryWait with nothing left
// to admit, though the last receive that returned came back full.
func TestBatchStartsWhenEveryReceiverWaits(t *testing.T) {
	e := planner(t)
	e.receiving = 2
	t0 := time.Now()
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	plan := func(now time.Time) map[string][]int { bs, _ := e.plan(now); return sizes(bs) }

	// Receives that bring messages take 20 ms here (dryWait 80 ms); the
	// last one came back full.
	for i := range 8 {
		e.receiveBegan(ms(i * 20))
		e.receiveEnded(10, 20*time.Millisecond, ms(i*20+20))
	}
	ready(e, "big", 60, ms(170))
	wait := e.pace.dryWait()
	if wait != 80*time.Millisecond {
		t.Fatalf("dryWait = %s after 20 ms receives, want 80ms", wait)
	}
	e.receiveBegan(ms(180)) // one receiver waits; the other is between receives
	if got := plan(ms(1000)); len(got) != 0 {
		t.Fatalf("one of two receivers waiting: planned %v, want nothing", got)
	}
	e.receiveBegan(ms(200)) // now both wait
	e.mu.Lock()
	e.adq.msgs = append(e.adq.msgs, sqsx.Message{ID: "m"}) // a receive's messages not yet admitted
	e.mu.Unlock()
	if got := plan(ms(1000)); len(got) != 0 {
		t.Fatalf("messages still waiting to be admitted: planned %v, want nothing", got)
	}
	e.mu.Lock()
	e.adq.msgs = nil
	e.mu.Unlock()
	if bs, next := e.plan(ms(279)); len(bs) != 0 || !next.Equal(ms(280)) {
		t.Fatalf("both waiting for 79 ms: planned %v, next plan at %s; want nothing before +280ms", sizes(bs), next.Sub(t0))
	}
	if got := plan(ms(280)); len(got["big"]) != 1 || got["big"][0] != 60 {
		t.Fatalf("both receivers waited dryWait: planned %v, want big's 60 jobs", got)
	}

	// On a slow machine, receives that take 200 ms make the wait 800 ms: a
	// slow receive is not the end of the queue.
	e.pace.ended(Destination{Endpoint: "ep", Schema: "public", Table: "big", Manifest: true, Bucket: "b"})
	e.receiveEnded(-1, 0, ms(300)) // a failed receive says nothing of the queue
	e.receiveEnded(-1, 0, ms(300))
	for i := range 40 {
		e.receiveBegan(ms(400 + i*200))
		e.receiveEnded(10, 200*time.Millisecond, ms(600+i*200))
	}
	if wait := e.pace.dryWait(); wait < 750*time.Millisecond {
		t.Fatalf("dryWait = %s after 200 ms receives, want about 800ms", wait)
	}
	ready(e, "big", 60, ms(8400))
	e.receiveBegan(ms(8400))
	e.receiveBegan(ms(8400))
	if got := plan(ms(8400 + 500)); len(got) != 0 {
		t.Fatalf("receivers waited 500 ms where receives take 200: planned %v, want nothing", got)
	}
	if got := plan(ms(8400 + 1000)); len(got["big"]) != 1 {
		t.Fatalf("receivers waited 1 s: planned %v, want big's batch", got)
	}

	// Bounds: a fast local queue still waits 50 ms; a very slow one at most 1 s.
	if got := (&pacing{pollTook: 5 * time.Millisecond}).dryWait(); got != 50*time.Millisecond {
		t.Errorf("dryWait after 5 ms receives = %s, want 50ms", got)
	}
	if got := (&pacing{pollTook: 2 * time.Second}).dryWait(); got != time.Second {
		t.Errorf("dryWait after 2 s receives = %s, want 1s", got)
	}
}

// TestPlanLogsWhyABatchStarts: the debug log says why each batch started,
// the first thing to know when a COPY came early, late or small.
func TestPlanLogsWhyABatchStarts(t *testing.T) {
	var logs strings.Builder
	e := planner(t)
	e.log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t0 := time.Now()
	why := func(now time.Time) []string {
		logs.Reset()
		bs, _ := e.plan(now)
		var out []string
		for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			if _, w, ok := strings.Cut(line, " why="); ok {
				w, _, _ = strings.Cut(w, " dry_wait=")
				out = append(out, w)
			}
		}
		if len(out) != len(bs) {
			t.Fatalf("%d batches planned, %d logged: %q", len(bs), len(out), logs.String())
		}
		return out
	}
	ready(e, "full", 100, t0)
	if got := why(t0); len(got) != 1 || got[0] != "full" {
		t.Errorf("a full batch: logged %q, want [full]", got)
	}
	ready(e, "dry", 60, t0)
	receive(e, 0, t0.Add(10*time.Millisecond)) // after the last job joined
	if got := why(t0.Add(time.Second)); len(got) != 1 || got[0] != `"queue dry"` {
		t.Errorf("a batch past half full, the queue dry: logged %q, want [\"queue dry\"]", got)
	}
	ready(e, "old", 5, t0)
	if got := why(t0.Add(e.opts.Batch.MaxAge)); len(got) != 1 || got[0] != "max_age" {
		t.Errorf("a small batch at max_age: logged %q, want [max_age]", got)
	}
	ready(e, "last", 5, t0.Add(e.opts.Batch.MaxAge))
	e.mu.Lock()
	e.receiving = 0
	e.mu.Unlock()
	if got := why(t0.Add(e.opts.Batch.MaxAge)); len(got) != 1 || got[0] != `"receivers done"` {
		t.Errorf("a small batch with no receiver left: logged %q, want [\"receivers done\"]", got)
	}
}

// TestPlanStartsBatchFullByBytes: a batch that reaches max_bytes before
// max_files is full and starts at once, with the jobs that fit; plan's
// check before it walks a queue (mayStart) must see that from the queue's
// bytes, not only from its length.
func TestPlanStartsBatchFullByBytes(t *testing.T) {
	e := planner(t)
	e.opts.Batch.MaxBytes = 250 // 25 of ready's 10-byte objects
	t0 := time.Now()
	ready(e, "t", 30, t0)
	if bs, _ := e.plan(t0); len(bs) != 1 || len(bs[0].Jobs) != 25 {
		t.Fatalf("planned %v, want one batch of the 25 jobs within max_bytes", sizes(bs))
	}
	if bs, _ := e.plan(t0); len(bs) != 0 {
		t.Fatalf("planned %v for the 5 jobs left, want nothing before max_age", sizes(bs))
	}
}

// TestPlanCountsOnlyJobsThatWait: queued ids whose jobs no longer wait do
// not count toward the half of max_files a batch needs to start before
// max_age. plan's check before it walks (mayStart) counts them, so the
// walk must decide.
func TestPlanCountsOnlyJobsThatWait(t *testing.T) {
	e := planner(t)
	q := quietSpell(e.opts.Batch.MaxAge)
	t0 := time.Now()
	ready(e, "t", 60, t0)
	e.mu.Lock()
	for i := range 20 { // parked for a person, by rin-journal say
		e.jobs.pending[fmt.Sprintf("t-%d", 40+i)].State = journal.Failed
	}
	e.mu.Unlock()
	receive(e, 0, t0.Add(q/2))
	if bs, _ := e.plan(t0.Add(2 * q)); len(bs) != 0 {
		t.Fatalf("40 jobs wait of max_files 100: planned %v, want nothing before max_age", sizes(bs))
	}
	if bs, _ := e.plan(t0.Add(e.opts.Batch.MaxAge)); len(bs) != 1 || len(bs[0].Jobs) != 40 {
		t.Fatalf("at max_age: planned %v, want one batch of the 40 jobs that wait", sizes(bs))
	}
}
