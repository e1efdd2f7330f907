package redshift

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/internal/stackproc"
	"github.com/rinhq/rin/journal"
)

// The guard, tested against the simulator in serializable mode (the
// stack's default): loads of different tables never wait for each other or
// conflict, loads of one table wait for each other, and however many
// "processes" (Copiers with pools of their own) load the same objects at
// once, with conflicts injected, each object is loaded once.

// copierFor is another "process" on the fixture's endpoint and ledger.
func (f *fixture) copierFor(t *testing.T, timeouts Timeouts) *Copier {
	t.Helper()
	c := New(Options{
		Endpoints:   f.copier.opts.Endpoints,
		Credentials: f.copier.opts.Credentials,
		Ledger:      f.copier.opts.Ledger,
		Manifest:    f.copier.opts.Manifest,
		Store:       f.copier.opts.Store,
		Timeouts:    timeouts,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	t.Cleanup(func() { c.Close() })
	return c
}

// jobIn is f.job for another table of the fixture's schema.
func (f *fixture) jobIn(t *testing.T, table, key string, rows int) journal.Job {
	j := f.job(t, key, rows)
	j.Table = table
	j.ID = journal.JobID(f.ep.Endpoint(), f.schema, table, f.bucket, key, "")
	return j
}

func (f *fixture) batchIn(table string, jobs ...journal.Job) fsm.Batch {
	b := f.batch(jobs...)
	b.Dest.Table = table
	return b
}

// retry copies b until it succeeds, as the engine retries a statement
// failure (a 1023, a timeout) for its table.
func retry(t *testing.T, c *Copier, b fsm.Batch) fsm.Result {
	t.Helper()
	for attempt := 0; ; attempt++ {
		res, err := c.Copy(context.Background(), b)
		if err == nil {
			return res
		}
		if fsm.ScopeOf(err) != fsm.ScopeStatement || attempt > 50 {
			t.Errorf("copy %s: %v (scope %s)", b.ID, err, fsm.ScopeOf(err))
			return res
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Loads of two tables by two processes run side by side; two loads of
// one table wait for each other, and the wait shows in GuardStats.
func TestGuardParallelTablesSerialTable(t *testing.T) {
	f := newFixture(t, "pw", nil)
	stackproc.NewTable(t, f.st, f.schema, "u", "src varchar(256), n int")
	sim := f.st
	const latency = 600 * time.Millisecond
	must(t, sim.SetCopyLatency(latency))
	defer func() { must(t, sim.SetCopyLatency(0)) }()
	p1, p2 := f.copierFor(t, Timeouts{}), f.copierFor(t, Timeouts{})
	// Warm up: ledgers created, connections open.
	retry(t, p1, f.batchIn("t", f.jobIn(t, "t", "w/t", 1)))
	retry(t, p2, f.batchIn("u", f.jobIn(t, "u", "w/u", 1)))

	run := func(b1, b2 fsm.Batch) time.Duration {
		start := time.Now()
		var wg sync.WaitGroup
		for i, pb := range []struct {
			c *Copier
			b fsm.Batch
		}{{p1, b1}, {p2, b2}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := pb.c.Copy(context.Background(), pb.b); err != nil {
					t.Errorf("process %d: %v", i+1, err)
				}
			}()
		}
		wg.Wait()
		return time.Since(start)
	}
	if d := run(f.batchIn("t", f.jobIn(t, "t", "p/t1", 1)), f.batchIn("u", f.jobIn(t, "u", "p/u1", 1))); d >= 2*latency {
		t.Errorf("two tables took %s; want them side by side (< %s)", d, 2*latency)
	}
	before := p2.GuardStats().Wait
	if d := run(f.batchIn("t", f.jobIn(t, "t", "s/1", 1)), f.batchIn("t", f.jobIn(t, "t", "s/2", 1))); d < 2*latency {
		t.Errorf("one table took %s; want one load after the other (>= %s)", d, 2*latency)
	}
	w1, w2 := p1.GuardStats().Wait, p2.GuardStats().Wait
	if waited := w1.Sum + w2.Sum - before.Sum; waited < (latency / 2).Seconds() {
		t.Errorf("guard waits sum to %.2fs; the second load should have waited about %s", waited, latency)
	}
	if st := stats(t, sim); st.SerializationAborts != 0 {
		t.Errorf("%d serialization aborts: the guard must keep loads from conflicting", st.SerializationAborts)
	}
}

// Four processes load the same 40 objects into one table, and two other
// tables' loads run meanwhile, while Redshift's 1023 is injected into some
// COPYs: every object is in its table exactly once, and the ledger holds
// one row per object.
func TestGuardConcurrentProcessesExactlyOnce(t *testing.T) {
	f := newFixture(t, "pw", nil)
	for _, tb := range []string{"u", "v"} {
		stackproc.NewTable(t, f.st, f.schema, tb, "src varchar(256), n int")
	}
	sim := f.st
	must(t, sim.SerializationConflictsInto(f.schema+".t", 6))
	defer func() { must(t, sim.ResetFaults()) }()
	var jobs []journal.Job
	for i := range 40 {
		jobs = append(jobs, f.jobIn(t, "t", fmt.Sprintf("x/%02d", i), 2))
	}
	others := map[string][]journal.Job{}
	for _, tb := range []string{"u", "v"} {
		for i := range 10 {
			others[tb] = append(others[tb], f.jobIn(t, tb, fmt.Sprintf("%s/%02d", tb, i), 1))
		}
	}
	var wg sync.WaitGroup
	for p := range 4 {
		c := f.copierFor(t, Timeouts{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each process sees the objects in its own order and batching.
			for k := 0; k < len(jobs); k += 5 + p {
				part := jobs[k:min(k+5+p, len(jobs))]
				if p%2 == 1 {
					part = append([]journal.Job(nil), part...)
					for i, j := 0, len(part)-1; i < j; i, j = i+1, j-1 {
						part[i], part[j] = part[j], part[i]
					}
				}
				b := f.batchIn("t", part...)
				b.ID = fmt.Sprintf("p%d-%d", p, k)
				retry(t, c, b)
			}
		}()
	}
	for tb, js := range others {
		c := f.copierFor(t, Timeouts{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			retry(t, c, f.batchIn(tb, js...))
		}()
	}
	wg.Wait()

	conn := stackproc.Connect(t, f.st)
	rows, err := conn.Query(context.Background(), "SELECT src, count(*) FROM "+pgx.Identifier{f.schema, "t"}.Sanitize()+" GROUP BY src")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for rows.Next() {
		var src string
		var n int
		if err := rows.Scan(&src, &n); err != nil {
			t.Fatal(err)
		}
		got[src] = n
	}
	rows.Close()
	for _, j := range jobs {
		if got[j.Key] != 2 {
			t.Errorf("%s: %d rows; want 2 (loaded once)", j.Key, got[j.Key])
		}
	}
	var ledgerRows, distinct int
	ledger := pgx.Identifier{f.schema, f.copier.ledger.tableFor(f.schema, "t")}.Sanitize()
	if err := conn.QueryRow(context.Background(), "SELECT count(*), count(DISTINCT job_id) FROM "+ledger).Scan(&ledgerRows, &distinct); err != nil {
		t.Fatal(err)
	}
	if ledgerRows != len(jobs) || distinct != len(jobs) {
		t.Errorf("ledger of t: %d rows, %d distinct; want %d", ledgerRows, distinct, len(jobs))
	}
	for tb := range others {
		if n := stackproc.CountRows(t, f.st, f.schema, tb); n != 10 {
			t.Errorf("%s: %d rows; want 10", tb, n)
		}
	}
	if left := faults(t, sim).TableFailures; len(left) > 0 && left[0].Remaining == 6 {
		t.Error("no 1023 was injected: the test proves less than it says")
	}
}

// batch.lock_timeout bounds the wait for the guard; batch.copy_timeout
// starts only once the guard is held, and bounds the COPY.
func TestGuardTimeouts(t *testing.T) {
	if testing.Short() {
		t.Skip("slow test: skipped with -short (make test-short); make test runs it")
	}
	f := newFixture(t, "pw", nil)
	ctx := context.Background()
	retry(t, f.copier, f.batch(f.job(t, "to/warm", 1))) // the ledger exists
	ledger := pgx.Identifier{f.schema, f.copier.ledger.tableFor(f.schema, "t")}.Sanitize()
	// holdLock locks table from another session for d; wait waits for
	// the release.
	holdLock := func(table string, d time.Duration) (wait func()) {
		conn := stackproc.Connect(t, f.st)
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, "LOCK "+table); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			time.Sleep(d)
			_ = tx.Rollback(context.Background())
		}()
		return func() { <-done }
	}

	// Another load holds the guard for 2s; the bound is 300ms.
	c := f.copierFor(t, Timeouts{Lock: 300 * time.Millisecond, Copy: 10 * time.Second})
	j := f.job(t, "to/lock", 1)
	release := holdLock(ledger, 2*time.Second)
	start := time.Now()
	_, err := c.Copy(ctx, f.batch(j))
	if fsm.ScopeOf(err) != fsm.ScopeStatement || !strings.Contains(fmt.Sprint(err), "batch.lock_timeout") || time.Since(start) > 1500*time.Millisecond {
		t.Fatalf("lock wait: %v after %s; want a statement failure naming batch.lock_timeout after ~300ms", err, time.Since(start))
	}
	if g := c.GuardStats(); g.Timeouts != 1 || g.Wait.Count != 1 {
		t.Fatalf("guard stats %+v; want one timed-out wait", g)
	}
	release()

	// The guard is held for 1s, then the COPY is quick: a copy_timeout of
	// 700ms is not spent waiting.
	c = f.copierFor(t, Timeouts{Lock: 10 * time.Second, Copy: 700 * time.Millisecond})
	j = f.job(t, "to/wait-then-copy", 1) // before the lock: the upload is no part of the wait
	release = holdLock(ledger, time.Second)
	if _, err := c.Copy(ctx, f.batch(j)); err != nil {
		t.Fatalf("a COPY after a 1s wait with copy_timeout 700ms: %v", err)
	}
	if g := c.GuardStats(); g.Wait.Sum < 0.8 {
		t.Fatalf("guard stats %+v; want a wait of about 1s", g)
	}
	release()

	// The COPY itself is stuck (its table locked by someone else): it is
	// cancelled at copy_timeout.
	release = holdLock(pgx.Identifier{f.schema, "t"}.Sanitize(), 3*time.Second)
	start = time.Now()
	_, err = c.Copy(ctx, f.batch(f.job(t, "to/stuck", 1)))
	if fsm.ScopeOf(err) != fsm.ScopeStatement || !strings.Contains(fmt.Sprint(err), "batch.copy_timeout") || time.Since(start) > 2500*time.Millisecond {
		t.Fatalf("stuck COPY: %v after %s; want a statement failure naming batch.copy_timeout after ~700ms", err, time.Since(start))
	}
	release()
	if n := f.rows(t); n != 2 {
		t.Fatalf("%d rows; want the warm-up's and the one that waited (2)", n)
	}
}

// A user renamed in the config gives the same job ids: the second
// "process" finds the load done.
func TestJobIDSurvivesUserRename(t *testing.T) {
	f := newFixture(t, "pw", nil)
	j := f.job(t, "rename/1", 3)
	retry(t, f.copier, f.batch(j))
	renamed := f.ep
	renamed.User = "loader2"
	c := New(Options{
		Endpoints:   map[string]config.Redshift{renamed.Endpoint(): renamed},
		Credentials: f.copier.opts.Credentials, Ledger: f.copier.opts.Ledger,
		Manifest: f.copier.opts.Manifest, Store: f.copier.opts.Store,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	defer c.Close()
	j2 := j
	j2.Endpoint = renamed.Endpoint()
	j2.ID = journal.JobID(renamed.Endpoint(), f.schema, "t", f.bucket, "rename/1", "")
	if j2.ID != j.ID {
		t.Fatalf("ids differ after a rename: %s, %s", j.ID, j2.ID)
	}
	b := f.batch(j2)
	b.Dest.Endpoint = renamed.Endpoint()
	res, err := c.Copy(context.Background(), b)
	if err != nil || !res.Skipped[j2.ID] || f.rows(t) != 3 {
		t.Fatalf("after the rename: skipped %v, %v, %d rows; want skipped, 3 rows", res.Skipped, err, f.rows(t))
	}
}
