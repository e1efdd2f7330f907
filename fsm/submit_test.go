package fsm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/journal"
	"github.com/rinhq/rin/sqsx"
)

// submitted builds the jobs backfill would submit for keys: routed through
// the test config, each object's version being the eTag the test events
// carry ("e-<key>"), so that an event for the same object maps to the same job.
func submitted(t *testing.T, keys ...string) []journal.Job {
	t.Helper()
	cfg, err := config.Parse([]byte(testConfig), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var out []journal.Job
	for _, k := range keys {
		for _, rt := range cfg.Route("b", k) {
			if !rt.Discard {
				out = append(out, JobFor(rt, sqsx.Record{Bucket: "b", Key: k, Size: 10, ETag: "e-" + k}))
			}
		}
	}
	return out
}

// Submitted jobs load once and are acked with no message to delete; a
// second submission of the same objects loads nothing.
//
// In a synctest bubble, so that "loads nothing" is checked over a span of
// the engine's time (a second, full ack pass included) that the machine's
// load cannot shorten.
func TestSubmitLoadsAndAcks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, &fakeCopier{}, Options{})
		jobs := submitted(t, "foo/1", "foo/2", "re/sch/tab/3")
		admitted, known, err := h.engine.Submit(context.Background(), jobs)
		if err != nil || admitted != 3 || known != 0 {
			t.Fatalf("Submit = %d admitted, %d known, %v; want 3, 0, nil", admitted, known, err)
		}
		h.waitFor("3 acked", func() bool { return h.states()[journal.Acked] == 3 && h.engine.Stats().Pending == 0 })
		admitted, known, err = h.engine.Submit(context.Background(), append(jobs, jobs[0]))
		if err != nil || admitted != 0 || known != 4 {
			t.Fatalf("second Submit = %d admitted, %d known, %v; want 0, 4, nil", admitted, known, err)
		}
		time.Sleep(time.Second) // a batch's age (20 ms) many times over
		synctest.Wait()
		if n, _ := h.c.loads(); n != 3 {
			t.Fatalf("loaded %d times, want 3", n)
		}
		if s := h.engine.Stats(); s.Acked != 3 || s.MessagesDeleted != 0 {
			t.Fatalf("stats %+v; want 3 acked and no message deleted", s)
		}
	})
}

// An event that arrives after its object was submitted and loaded maps to
// the same job: its message is deleted and nothing loads again. The other
// way round, a submission of an object an event brought is known.
func TestSubmitAndEventsShareJobs(t *testing.T) {
	h := start(t, &fakeCopier{}, Options{})
	if _, _, err := h.engine.Submit(context.Background(), submitted(t, "foo/late")); err != nil {
		t.Fatal(err)
	}
	h.waitFor("submitted job acked", func() bool { return h.states()[journal.Acked] == 1 })
	h.q.send("late", event("foo/late"))
	h.q.send("first", event("foo/first"))
	h.waitFor("both messages deleted", func() bool { return h.q.deletions("late") == 1 && h.q.deletions("first") == 1 })
	h.waitFor("2 acked", func() bool { return h.states()[journal.Acked] == 2 })
	admitted, known, err := h.engine.Submit(context.Background(), submitted(t, "foo/first"))
	if err != nil || admitted != 0 || known != 1 {
		t.Fatalf("Submit of an evented object = %d admitted, %d known, %v; want 0, 1", admitted, known, err)
	}
	if n, _ := h.c.loads(); n != 2 {
		t.Fatalf("loaded %d times, want 2 (each object once)", n)
	}
	if s := h.engine.Stats(); s.Duplicates != 1 {
		t.Errorf("%d duplicates counted, want the late event's job", s.Duplicates)
	}
}

// A job the engine's config does not make of its object is refused whole:
// nothing of the submission is journaled.
func TestSubmitRefusesUnroutedJobs(t *testing.T) {
	h := start(t, &fakeCopier{}, Options{})
	good := submitted(t, "foo/ok")
	forged := good[0]
	forged.Table = "other" // id no longer matches what the config routes
	forged.ID = journal.JobID(forged.Endpoint, forged.Schema, "other", "b", "foo/ok", forged.Version)
	nomatch := journal.Job{ID: "x", Bucket: "b", Key: "nomatch/1"}
	discarded := journal.Job{ID: "y", Bucket: "b", Key: "skip/1"}
	for _, bad := range []journal.Job{forged, nomatch, discarded, {ID: "z"}} {
		_, _, err := h.engine.Submit(context.Background(), append(append([]journal.Job(nil), good...), bad))
		if !errors.Is(err, ErrNotRouted) {
			t.Fatalf("Submit with %+v: err = %v, want ErrNotRouted", bad, err)
		}
	}
	if s := h.states(); len(s) != 0 {
		t.Fatalf("journal holds %v after refused submissions", s)
	}
}

// Before Run, and in batch mode with an empty queue: the submitted jobs
// load and Run returns once they are acked.
func TestSubmitBeforeRunInBatchMode(t *testing.T) {
	cfg, err := config.Parse([]byte(testConfig), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	j, err := journal.Open(filepath.Join(t.TempDir(), "j.db"), journal.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	c := &fakeCopier{loaded: map[string]int{}}
	e := New(j, newFakeQueue(), cfg, c, Options{BatchMode: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	var keys []string
	for i := range 25 {
		keys = append(keys, fmt.Sprintf("foo/%d", i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if n, _, err := e.Submit(ctx, submitted(t, keys...)); err != nil || n != 25 {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	if err := e.Run(ctx); err != nil {
		t.Fatal(err)
	}
	var counts map[journal.State]int
	j.View(func(tx *journal.Tx) error { counts = tx.CountJobs(); return nil })
	if counts[journal.Acked] != 25 || len(counts) != 1 {
		t.Fatalf("after Run: %v, want 25 acked", counts)
	}
	if n, batches := c.loads(); n != 25 || batches != 1 {
		t.Fatalf("%d loads in %d COPYs, want 25 in 1", n, batches)
	}
}

// Submissions racing events for the same objects, from several goroutines:
// each object loads exactly once and every message is deleted.
func TestSubmitRacesEvents(t *testing.T) {
	h := start(t, &fakeCopier{}, Options{Batch: BatchOptions{MaxAge: 5 * time.Millisecond}})
	const n = 200
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 4 {
				k := fmt.Sprintf("foo/%d", i)
				if i%2 == 0 {
					h.q.send(k, event(k))
				}
				if _, _, err := h.engine.Submit(context.Background(), submitted(t, k)); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	h.waitFor("all acked", func() bool { return h.states()[journal.Acked] == n && h.engine.Stats().Pending == 0 })
	h.waitFor("messages deleted", func() bool { return h.engine.Stats().MessagesDeleted == n/2 })
	h.c.mu.Lock()
	defer h.c.mu.Unlock()
	for id, times := range h.c.loaded {
		if times != 1 {
			t.Errorf("job %s loaded %d times", id, times)
		}
	}
	if len(h.c.loaded) != n {
		t.Errorf("%d jobs loaded, want %d", len(h.c.loaded), n)
	}
}

// A submitted job held by an environment fault is reported by HoldsOn,
// and loads once the fault heals.
func TestSubmitHeldJobs(t *testing.T) {
	var mu sync.Mutex
	missing := true
	c := &fakeCopier{fail: func(b Batch) error {
		mu.Lock()
		defer mu.Unlock()
		if b.Dest.Table == "tab" && missing {
			return WithScope(ScopeTable, errors.New(`relation "sch.tab" does not exist`))
		}
		return nil
	}}
	h := start(t, c, Options{})
	jobs := submitted(t, "re/sch/tab/1", "foo/1")
	if _, _, err := h.engine.Submit(context.Background(), jobs); err != nil {
		t.Fatal(err)
	}
	h.waitFor("the table held", func() bool { return len(h.engine.Holds()) == 1 })
	holds := h.engine.Holds()
	if on := HoldsOn(holds, jobs[0]); len(on) != 1 || on[0].Scope != "table" {
		t.Fatalf("HoldsOn(held job) = %+v", on)
	}
	if on := HoldsOn(holds, jobs[1]); len(on) != 0 {
		t.Fatalf("HoldsOn(other table's job) = %+v", on)
	}
	mu.Lock()
	missing = false
	mu.Unlock()
	h.waitFor("both acked", func() bool { return h.states()[journal.Acked] == 2 })
}
