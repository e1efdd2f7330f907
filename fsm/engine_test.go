package fsm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/internal/logtest"
	"github.com/rinhq/rin/journal"
	"github.com/rinhq/rin/sqsx"
)

// These tests drive the engine with an in-memory queue and copier to pin
// down its logic; the end-to-end tests in package e2e run the same flows
// against goaws, gofakes3 and the Redshift simulator.

type fakeQueue struct {
	mu      sync.Mutex
	pending []sqsx.Message
	deleted map[string]int // message id → deletions
	handles map[string]string
	seq     int
}

func newFakeQueue() *fakeQueue {
	return &fakeQueue{deleted: map[string]int{}, handles: map[string]string{}}
}

func (q *fakeQueue) send(id, body string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.seq++
	h := fmt.Sprintf("h-%s-%d", id, q.seq)
	q.handles[h] = id
	q.pending = append(q.pending, sqsx.Message{ID: id, ReceiptHandle: h, Body: body})
}

func (q *fakeQueue) Receive(ctx context.Context, max int32, wait, vis time.Duration) ([]sqsx.Message, error) {
	q.mu.Lock()
	n := min(int(max), len(q.pending))
	out := append([]sqsx.Message(nil), q.pending[:n]...)
	q.pending = q.pending[n:]
	q.mu.Unlock()
	if n == 0 {
		sleep(ctx, 10*time.Millisecond)
	}
	return out, nil
}

func (q *fakeQueue) Delete(ctx context.Context, handles []string) (map[string]error, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, h := range handles {
		q.deleted[q.handles[h]]++
	}
	return nil, nil
}

func (q *fakeQueue) ChangeVisibility(ctx context.Context, handles []string, t time.Duration) (map[string]error, error) {
	return nil, nil
}

func (q *fakeQueue) deletions(id string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.deleted[id]
}

type fakeCopier struct {
	mu      sync.Mutex
	loaded  map[string]int // job id → times loaded (the ledger)
	batches []int
	fail    func(b Batch) error
}

func (c *fakeCopier) Copy(ctx context.Context, b Batch) (Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		if err := c.fail(b); err != nil {
			return Result{}, err
		}
	}
	res := Result{Skipped: map[string]bool{}}
	for _, j := range b.Jobs {
		if c.loaded[j.ID] > 0 {
			res.Skipped[j.ID] = true
			continue
		}
		c.loaded[j.ID]++
		res.Rows++
	}
	c.batches = append(c.batches, len(b.Jobs))
	return res, nil
}

func (c *fakeCopier) loads() (jobs, batches int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.loaded {
		jobs += n
	}
	return jobs, len(c.batches)
}

const testConfig = `
queue_name: q
redshift: {host: localhost, port: 5439, dbname: db, user: u, password: p, schema: public}
s3: {bucket: b, region: us-east-1}
targets:
  - s3: {key_prefix: skip/}
    discard: true
  - redshift: {table: foo}
    s3: {key_prefix: foo/}
  - redshift: {schema: $1, table: $2}
    s3: {key_regexp: '^re/([a-z]+)/([a-z]+)/'}
`

func event(keys ...string) string {
	var recs []string
	for _, k := range keys {
		recs = append(recs, fmt.Sprintf(`{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put","eventTime":"2026-11-25T00:00:00.000Z","s3":{"bucket":{"name":"b"},"object":{"key":%q,"size":10,"eTag":"e-%s","sequencer":"01"}}}`, k, k))
	}
	return `{"Records":[` + strings.Join(recs, ",") + `]}`
}

type harness struct {
	t      *testing.T
	q      *fakeQueue
	c      *fakeCopier
	j      *journal.Journal
	engine *Engine
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, c *fakeCopier, opts Options) *harness {
	t.Helper()
	return startWithQueue(t, c, nil, opts)
}

// startWithQueue is start with a queue of the test's (nil: a fakeQueue).
func startWithQueue(t *testing.T, c *fakeCopier, queue Queue, opts Options) *harness {
	t.Helper()
	cfg, err := config.Parse([]byte(testConfig), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	j, err := journal.Open(filepath.Join(t.TempDir(), "j.db"), journal.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if c.loaded == nil {
		c.loaded = map[string]int{}
	}
	h := &harness{t: t, q: newFakeQueue(), c: c, j: j, done: make(chan error, 1)}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Batch.MaxAge == 0 {
		opts.Batch.MaxAge = 20 * time.Millisecond
	}
	opts.Retry.InitialInterval = 10 * time.Millisecond
	opts.Retry.MaxInterval = 50 * time.Millisecond
	if queue == nil {
		queue = h.q
	}
	h.engine = New(j, queue, cfg, c, opts)
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- h.engine.Run(ctx) }()
	t.Cleanup(func() { h.stop(); j.Close() })
	return h
}

func (h *harness) stop() {
	h.cancel()
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("engine: %v", err)
		}
	case <-time.After(10 * time.Second):
		h.t.Error("engine did not stop")
	}
	h.done <- nil
}

// waitFor polls cond every 5 ms for up to 10 s; in a synctest bubble both
// are fake time, so it returns within 5 ms of the engine's time after cond
// holds.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s; stats %+v", what, h.engine.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (h *harness) states() map[journal.State]int {
	var counts map[journal.State]int
	h.j.View(func(tx *journal.Tx) error { counts = tx.CountJobs(); return nil })
	return counts
}

func TestDuplicatesLoadOnce(t *testing.T) {
	h := start(t, &fakeCopier{}, Options{})
	h.q.send("m1", event("foo/1", "foo/1", "re/sch/tab/2", "skip/3", "nomatch/4"))
	h.q.send("m2", event("foo/1"))                                                 // duplicate S3 event in another message
	h.q.send("m1", event("foo/1", "foo/1", "re/sch/tab/2", "skip/3", "nomatch/4")) // SQS redelivery
	h.waitFor("all acked", func() bool { return h.states()[journal.Acked] == 2 && h.engine.Stats().Pending == 0 })
	h.waitFor("messages deleted", func() bool { return h.q.deletions("m1") >= 1 && h.q.deletions("m2") == 1 })
	if jobs, _ := h.c.loads(); jobs != 2 {
		t.Fatalf("loaded %d times, want 2 (foo/1 and re/sch/tab/2 once each)", jobs)
	}
}

func TestBatchesShareOneCopy(t *testing.T) {
	h := start(t, &fakeCopier{}, Options{Batch: BatchOptions{MaxFiles: 50, MaxAge: 200 * time.Millisecond}})
	for i := 0; i < 12; i++ {
		var keys []string
		for k := 0; k < 10; k++ {
			keys = append(keys, fmt.Sprintf("foo/%d-%d", i, k))
		}
		h.q.send(fmt.Sprint("m", i), event(keys...))
	}
	h.waitFor("120 acked", func() bool { return h.states()[journal.Acked] == 120 })
	jobs, batches := h.c.loads()
	if jobs != 120 || batches > 6 {
		t.Fatalf("%d jobs in %d COPYs; want 120 jobs in at most 6", jobs, batches)
	}
}

func TestBadObjectIsolated(t *testing.T) {
	c := &fakeCopier{fail: func(b Batch) error {
		for _, j := range b.Jobs {
			if j.Key == "foo/bad" {
				return BadObject(errors.New("invalid input syntax"))
			}
		}
		return nil
	}}
	h := start(t, c, Options{Batch: BatchOptions{MaxFiles: 100, MaxAge: 100 * time.Millisecond}, Retry: RetryOptions{MaxAttempts: 2}})
	keys := []string{"foo/bad"}
	for k := 0; k < 9; k++ {
		keys = append(keys, fmt.Sprintf("foo/good-%d", k))
	}
	h.q.send("m1", event(keys...))
	h.waitFor("9 acked, 1 failed", func() bool { s := h.states(); return s[journal.Acked] == 9 && s[journal.Failed] == 1 })
	h.waitFor("message deleted", func() bool { return h.q.deletions("m1") == 1 })
	var failed journal.Job
	h.j.View(func(tx *journal.Tx) error {
		return tx.ForEachJob(journal.Failed, func(j journal.Job) error { failed = j; return nil })
	})
	if failed.Key != "foo/bad" || !strings.Contains(failed.LastError, "invalid input syntax") || failed.Attempts != 2 {
		t.Fatalf("failed job = %+v", failed)
	}
}

// An endpoint-wide fault (a resize) opens the endpoint's breaker: while it
// lasts, one probe at a time tries it on the backoff schedule.
//
// It runs in a synctest bubble: time is fake, so the 500 ms of outage pass
// at once and what happens in them depends on the backoff schedule alone,
// not on how busy the machine is. The schedule is jittered (±50% around
// 10, 20, 40, then 50 ms), so the count of probes is not a constant, but
// the gaps between them are pinned to the schedule's bounds (checkProbes).
func TestBreakerHoldsEndpoint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		down := true
		var calls []time.Time
		c := &fakeCopier{fail: func(b Batch) error {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, time.Now())
			if down {
				return errors.New("read-only: cluster resizing")
			}
			return nil
		}}
		h := start(t, c, Options{})
		for i := 0; i < 20; i++ {
			h.q.send(fmt.Sprint("m", i), event(fmt.Sprintf("foo/%d", i)))
		}
		time.Sleep(500 * time.Millisecond)
		mu.Lock()
		during := append([]time.Time(nil), calls...)
		down = false
		mu.Unlock()
		// 20 jobs, 500ms of outage, probes backing off from 10ms to 50ms:
		// the first COPY carries all 20 (the target's max_files), then only
		// one-job probes follow, on the breaker's schedule. The schedule's
		// extremes give about 8 to 20 attempts; more than 15 would take
		// every jitter draw near its low end.
		if len(during) > 15 || len(during) < 7 {
			t.Fatalf("%d COPY attempts during the outage; the breaker should hold the endpoint to a few probes on its backoff schedule", len(during))
		}
		checkProbes(t, during, time.Now())
		h.waitFor("20 acked", func() bool { return h.states()[journal.Acked] == 20 })
		c.mu.Lock()
		defer c.mu.Unlock()
		if sizes := c.batches; len(sizes) == 0 || sizes[len(sizes)-1] < 2 {
			t.Fatalf("batches that succeeded carried %v jobs: after the outage the rest should load in one batch, not a probe at a time", sizes)
		}
	})
}

// checkProbes checks the attempts a held scope saw, up to end, against the
// harness's backoff schedule (10 ms doubling to 50 ms, ±50% jitter): after
// the attempt that opened the breaker, each came no sooner than its
// backoff's low bound and no later than its high bound plus the planner's
// 5 ms debounce, and at end the next one is not overdue. Only exact in a
// synctest bubble, where time passes only when every goroutine waits.
func checkProbes(t *testing.T, attempts []time.Time, end time.Time) {
	t.Helper()
	bounds := func(nominal time.Duration) (lo, hi time.Duration) {
		return nominal / 2, nominal*3/2 + 5*time.Millisecond
	}
	nominal := 10 * time.Millisecond
	for i := 1; i < len(attempts); i++ {
		gap := attempts[i].Sub(attempts[i-1])
		if lo, hi := bounds(nominal); gap < lo || gap > hi {
			t.Errorf("probe %d came %s after the previous attempt; the backoff allows %s to %s", i, gap, lo, hi)
		}
		nominal = min(2*nominal, 50*time.Millisecond)
	}
	if len(attempts) == 0 {
		t.Fatal("no attempts")
	}
	if _, hi := bounds(nominal); end.Sub(attempts[len(attempts)-1]) > hi {
		t.Errorf("no probe for %s after attempt %d; the backoff allows at most %s", end.Sub(attempts[len(attempts)-1]), len(attempts)-1, hi)
	}
}

func TestObjectErrorParksJob(t *testing.T) {
	c := &fakeCopier{fail: func(b Batch) error {
		if b.Dest.Table == "tab" {
			return BadObject(errors.New(`Load into table 'tab' failed.  Check 'stl_load_errors' system table for details.`))
		}
		return nil
	}}
	h := start(t, c, Options{Retry: RetryOptions{MaxAttempts: 3}})
	h.q.send("m1", event("re/sch/tab/1", "foo/1"))
	h.waitFor("1 failed, 1 acked", func() bool { s := h.states(); return s[journal.Failed] == 1 && s[journal.Acked] == 1 })
	h.waitFor("message deleted", func() bool { return h.q.deletions("m1") == 1 })
	// Nothing of the finished message is kept in memory.
	h.waitFor("bookkeeping released", func() bool {
		h.engine.mu.Lock()
		defer h.engine.mu.Unlock()
		return len(h.engine.msgs.ofJob) == 0 && h.engine.msgs.len() == 0 && h.engine.jobs.len() == 0
	})
	// Requeue after "fixing the object".
	c.mu.Lock()
	c.fail = nil
	c.mu.Unlock()
	var id string
	h.j.View(func(tx *journal.Tx) error {
		return tx.ForEachJob(journal.Failed, func(j journal.Job) error { id = j.ID; return nil })
	})
	if _, err := h.engine.Requeue([]string{id}); err != nil {
		t.Fatal(err)
	}
	h.waitFor("2 acked", func() bool { return h.states()[journal.Acked] == 2 })
}

func TestMalformedRejected(t *testing.T) {
	h := start(t, &fakeCopier{}, Options{})
	h.q.send("bad", `{"Records":[{"s3":`)
	h.q.send("test", `{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-25T00:00:00.000Z","Bucket":"b"}`)
	h.waitFor("both deleted", func() bool { return h.q.deletions("bad") == 1 && h.q.deletions("test") == 1 })
	var rejected []journal.Rejected
	h.j.View(func(tx *journal.Tx) error {
		return tx.ForEachRejected(func(r journal.Rejected) error { rejected = append(rejected, r); return nil })
	})
	if len(rejected) != 1 || rejected[0].Body != `{"Records":[{"s3":` {
		t.Fatalf("rejected = %+v", rejected)
	}
}

func TestResumeRecopiesInterrupted(t *testing.T) {
	// A job left copying by a crash goes back through Copy, where the
	// ledger (here: the fake's loaded map) decides; it is never lost.
	c := &fakeCopier{loaded: map[string]int{}}
	path := filepath.Join(t.TempDir(), "j.db")
	j, err := journal.Open(path, journal.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := config.Parse([]byte(testConfig), "t.yaml")
	rt := cfg.Route("b", "foo/x")[0]
	id := journal.JobID(rt.Redshift.Endpoint(), rt.Schema, rt.Table, "b", "foo/x", "e")
	c.loaded[id] = 1 // the COPY had committed before the crash
	j.Update(func(tx *journal.Tx) error {
		return tx.PutJobVia(journal.Job{ID: id, State: journal.Copying, Endpoint: rt.Redshift.Endpoint(), Table: rt.Table, Bucket: "b", Key: "foo/x", Version: "e"})
	})
	e := New(j, newFakeQueue(), cfg, c, Options{BatchMode: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.Run(ctx); err != nil {
		t.Fatal(err)
	}
	var job journal.Job
	j.View(func(tx *journal.Tx) (err error) { job, err = tx.Job(id); return })
	if job.State != journal.Acked || c.loaded[id] != 1 {
		t.Fatalf("job %s after resume, loaded %d times", job.State, c.loaded[id])
	}
}

// The safeguard of register: a pending job the journal holds and memory
// does not (which should never be) is loaded when an event brings it, as
// Submit's safeguard does, even if the journal says copying: like a job
// found copying at resume, it goes back to received and the ledger decides.
func TestEventLoadsPendingJobMissingFromMemory(t *testing.T) {
	h := start(t, &fakeCopier{}, Options{})
	h.q.send("m0", event("foo/0")) // once acked, resume is long over
	h.waitFor("warm-up acked", func() bool { return h.states()[journal.Acked] == 1 })
	job := submitted(t, "foo/1")[0]
	job.State = journal.Copying
	if err := h.j.Update(func(tx *journal.Tx) error { return tx.PutJobVia(job) }); err != nil {
		t.Fatal(err)
	}
	h.q.send("m1", event("foo/1"))
	h.waitFor("the stranded job acked and its message deleted", func() bool {
		return h.states()[journal.Acked] == 2 && h.q.deletions("m1") == 1
	})
}

// A COPY that hangs is cancelled at batch.copy_timeout and retried; the
// endpoint is not stuck behind it.
func TestCopyTimeoutCancelsHungCopy(t *testing.T) {
	var mu sync.Mutex
	hangs := 2
	c := &hangingCopier{fakeCopier: &fakeCopier{loaded: map[string]int{}}, hang: func() bool {
		mu.Lock()
		defer mu.Unlock()
		hangs--
		return hangs >= 0
	}}
	cfg, err := config.Parse([]byte(testConfig), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	j, err := journal.Open(filepath.Join(t.TempDir(), "j.db"), journal.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	q := newFakeQueue()
	q.send("m1", event("foo/1"))
	e := New(j, q, cfg, c, Options{
		BatchMode: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Batch: BatchOptions{CopyTimeout: 100 * time.Millisecond, MaxAge: time.Millisecond},
		Retry: RetryOptions{InitialInterval: 10 * time.Millisecond, MaxInterval: 20 * time.Millisecond},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if jobs, _ := c.loads(); jobs != 1 || q.deletions("m1") != 1 {
		t.Fatalf("loaded %d, message deleted %d times; want 1 and 1 after two hung COPYs were cancelled", jobs, q.deletions("m1"))
	}
	if s := e.Stats(); s.CopyFailures != 2 {
		t.Fatalf("%d COPY failures, want the 2 hung ones", s.CopyFailures)
	}
}

type hangingCopier struct {
	*fakeCopier
	hang func() bool
}

func (h *hangingCopier) Copy(ctx context.Context, b Batch) (Result, error) {
	if h.hang() {
		<-ctx.Done()
		return Result{}, ctx.Err()
	}
	return h.fakeCopier.Copy(ctx, b)
}

// The admitter journals what several receives brought in one transaction:
// every job admitted together carries the same Created stamp, whereas one
// commit per receive would give each receive's jobs their own.
func TestReceivesAdmittedTogether(t *testing.T) {
	h := start(t, &fakeCopier{}, Options{})
	for i := 0; i < 40; i++ { // four receives of ten
		h.q.send(fmt.Sprint("m", i), event(fmt.Sprintf("foo/%d", i)))
	}
	h.waitFor("40 acked", func() bool { return h.states()[journal.Acked] == 40 })
	stamps := map[time.Time]bool{}
	h.j.View(func(tx *journal.Tx) error {
		return tx.ForEachJob("", func(j journal.Job) error { stamps[j.Created] = true; return nil })
	})
	if len(stamps) > 2 {
		t.Errorf("40 jobs from 4 receives were admitted in %d transactions, want them together (at most 2)", len(stamps))
	}
}

// A finished batch gets its messages deleted and its jobs acked by a pass
// that looks only at what the batch changed, not by the full pass that
// runs once a second.
//
// In a synctest bubble, where the delay is the engine's own, not the
// machine's: the full pass after sending would come 950 ms later, whereas
// the change-driven one comes within the sum of the waits on the way.
func TestAckFollowsCopyWithoutFullPass(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The COPY outlasts the pass that the admission itself triggers.
		slow := func(Batch) error { time.Sleep(150 * time.Millisecond); return nil }
		h := start(t, &fakeCopier{fail: slow}, Options{})
		time.Sleep(50 * time.Millisecond) // past the first (full) pass
		sent := time.Now()
		h.q.send("m1", event("foo/1", "foo/2"))
		h.waitFor("acked", func() bool { return h.states()[journal.Acked] == 2 && h.q.deletions("m1") == 1 })
		// At most 10 ms until a receive (the fake queue's poll), 10 ms of
		// admitLinger, 20 ms of batch age, 5 ms of planner debounce, the
		// 150 ms COPY, 50 ms of ackGather and waitFor's 5 ms poll.
		if d := time.Since(sent); d > 250*time.Millisecond {
			t.Errorf("message deleted and jobs acked %s after sending; the change-driven pass should take at most 250 ms", d)
		}
	})
}

// When the journal cannot be written (a full disk, a closed file), the
// engine stops with ErrJournal instead of going on without a durable
// record, and deletes nothing: the messages stay on the queue for later.
func TestJournalFailureStopsEngine(t *testing.T) {
	h := start(t, &fakeCopier{}, Options{})
	h.q.send("m0", event("foo/0"))
	h.waitFor("the engine running", func() bool { return h.q.deletions("m0") == 1 })
	if err := h.j.Close(); err != nil {
		t.Fatal(err)
	}
	h.q.send("m1", event("foo/1"))
	select {
	case err := <-h.done:
		if !errors.Is(err, ErrJournal) {
			t.Errorf("engine stopped with %v, want ErrJournal", err)
		}
		h.done <- nil // for the cleanup's stop
	case <-time.After(10 * time.Second):
		t.Fatal("engine kept running with a journal it cannot write")
	}
	if n := h.q.deletions("m1"); n != 0 {
		t.Errorf("message deleted %d times with nothing journaled", n)
	}
}

// A shutdown lets the running COPY finish and then acks its jobs and
// deletes its message: nothing is left copied but unacked for the next run
// (backfill's own engine, rin -batch and SIGTERM all stop this way).
//
// In a synctest bubble: synctest.Wait shows the engine blocked on the COPY,
// shut down but not stopped, before the COPY is let finish.
func TestShutdownAcksLastBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		copying, release := make(chan struct{}), make(chan struct{})
		letGo := sync.OnceFunc(func() { close(release) })
		defer letGo() // should the test fail before it lets the COPY end
		var once sync.Once
		slow := func(Batch) error {
			once.Do(func() { close(copying) })
			<-release
			return nil
		}
		h := start(t, &fakeCopier{fail: slow}, Options{ShutdownGrace: 10 * time.Second})
		h.q.send("m1", event("foo/1", "foo/2"))
		<-copying
		h.cancel() // shutdown while the COPY runs
		synctest.Wait()
		select {
		case err := <-h.done:
			h.done <- err // for the cleanup's stop
			t.Fatalf("engine stopped (%v) while its COPY ran", err)
		default:
		}
		time.Sleep(5 * time.Second) // half the grace: still waiting for the COPY
		synctest.Wait()
		select {
		case err := <-h.done:
			h.done <- err // for the cleanup's stop
			t.Fatalf("engine stopped (%v) 5 s into a 10 s shutdown grace, its COPY still running", err)
		default:
		}
		letGo()
		select {
		case err := <-h.done:
			if err != nil {
				t.Fatalf("engine: %v", err)
			}
			h.done <- nil
		case <-time.After(10 * time.Second):
			t.Fatal("engine did not stop")
		}
		if got := h.states(); got[journal.Acked] != 2 || len(got) != 1 {
			t.Errorf("after shutdown: %v; want both jobs acked", got)
		}
		if n := h.q.deletions("m1"); n != 1 {
			t.Errorf("message deleted %d times at shutdown, want 1", n)
		}
	})
}

// A COPY that fails because a data file is gone (ErrObjectGone) isolates
// the object and ends its job removed, not failed; the rest of the batch
// loads and the message is deleted.
func TestGoneObjectEndsRemoved(t *testing.T) {
	gone := func(b Batch) error {
		for _, j := range b.Jobs {
			if j.Key == "foo/gone" {
				return BadObject(fmt.Errorf("%w: S3ServiceException:The specified key does not exist.,Status 404,Error NoSuchKey", ErrObjectGone))
			}
		}
		return nil
	}
	h := start(t, &fakeCopier{fail: gone}, Options{})
	h.q.send("m1", event("foo/1", "foo/gone", "foo/2"))
	// An ack pass deletes the message, then acks the copied jobs: settled
	// is both, nothing left copied (waiting on the delete alone raced the
	// ack).
	h.waitFor("settled", func() bool {
		s := h.states()
		return h.q.deletions("m1") == 1 && s[journal.Received]+s[journal.Copying]+s[journal.Copied] == 0
	})
	if got := h.states(); got[journal.Removed] != 1 || got[journal.Acked] != 2 || got[journal.Failed] != 0 {
		t.Errorf("states %v; want 2 acked, 1 removed, none failed", got)
	}
	if s := h.engine.Stats(); s.Removed != 1 || s.Failed != 0 {
		t.Errorf("stats: %d removed, %d failed; want 1, 0", s.Removed, s.Failed)
	}
}

// The debug log reports each ack pass: what it deleted and acked.
func TestDebugLogReportsAckPass(t *testing.T) {
	var logs logtest.Buffer
	h := start(t, &fakeCopier{}, Options{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	h.q.send("m1", event("foo/1", "foo/2"))
	h.waitFor("acked", func() bool { return h.states()[journal.Acked] == 2 && h.q.deletions("m1") == 1 })
	h.waitFor("the ack pass logged", func() bool {
		return strings.Contains(logs.String(), `msg="ack pass" messages_deleted=1 jobs_acked=2 seconds=`)
	})
}
