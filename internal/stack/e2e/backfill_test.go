package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rinhq/rin/backfill"
	"github.com/rinhq/rin/internal/stack"
	"github.com/rinhq/rin/journal"
)

// Issue 14: objects in S3 whose events never reached rin. The tests run
// the real rin binary (rin, rin backfill, rin reconcile) on the local stack.

// backfillTargets loads obj/ into table t.
const backfillTargets = "  - redshift: {table: t}\n    s3: {key_prefix: obj/}\n"

// backfillRows is the number of rows in each test object.
const backfillRows = 2

// TestBackfillBesideDaemon: 1,000 objects in S3, events for the first half
// only. Once the daemon has loaded that half, reconcile lists exactly the
// other half as "no event seen"; rin backfill beside the daemon hands that
// half to it over the admin socket and exits 0; reconcile then finds
// nothing missing. Late events for a tenth of the backfilled objects load
// nothing, a second backfill loads nothing, and every row is there once.
func TestBackfillBesideDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("slow end-to-end test: skipped with -short (make test-short); make test runs it")
	}
	const n = 1000
	e := newEnv(t)
	e.table("t")
	cfg := e.writeConfig("config.yaml", backfillTargets, "ledger:\n  schema: "+e.schema+"\n")
	evs := e.putObjects("obj/", n, backfillRows)
	e.sendEvents(evs[:n/2])
	daemon := e.start("-config", cfg)
	e.waitFor(60*time.Second, "the daemon to load the evented half", func() bool { return len(e.rowsBySource("t")) == n/2 })

	src := "s3://" + e.bucket + "/obj/"
	rep := e.reconcile(cfg, src, 1)
	var missing []string
	for _, m := range rep.Targets[0].Missing {
		if m.Reason != backfill.ReasonNoEvent {
			t.Errorf("%s: reason %q, want %q", m.URI, m.Reason, backfill.ReasonNoEvent)
		}
		missing = append(missing, strings.TrimPrefix(m.URI, "s3://"+e.bucket+"/"))
	}
	if want := keysOf(evs[n/2:]); strings.Join(missing, " ") != strings.Join(want, " ") {
		t.Fatalf("reconcile lists %d missing objects (%.80v…), want exactly the %d without events", len(missing), missing, len(want))
	}
	if rep.Targets[0].InS3 != n || rep.Targets[0].Loaded != n/2 {
		t.Fatalf("reconcile: in S3 %d, loaded %d", rep.Targets[0].InS3, rep.Targets[0].Loaded)
	}

	s := e.backfillSummary(0, "-config", cfg, src)
	if tg := s.Targets[0]; tg.Jobs != n || tg.Already != n/2 || tg.Loaded != n/2 || !s.Complete {
		t.Errorf("backfill beside the daemon: %+v; want %d already loaded, %d loaded", s, n/2, n/2)
	}
	if !e.logsContain("handing jobs to the running rin") {
		t.Error("backfill did not go through the running rin's socket")
	}
	e.checkRowsOnce(keysOf(evs))
	if rep := e.reconcile(cfg, src, 0); rep.Missing != 0 || rep.Targets[0].Loaded != n {
		t.Fatalf("after backfill: reconcile reports %d missing, %d loaded", rep.Missing, rep.Targets[0].Loaded)
	}

	// Late events for a tenth of the backfilled objects: the same jobs.
	copies := e.st.Redshift().Stats().Copies
	e.sendEvents(evs[n/2 : n/2+n/10])
	e.waitFor(60*time.Second, "the late events to be handled", e.queueEmpty)
	if s := e.backfillSummary(0, "-config", cfg, src); s.Targets[0].Already != n || s.Targets[0].Loaded != 0 {
		t.Errorf("second backfill: %+v; want all %d already loaded", s, n)
	}
	if got := e.st.Redshift().Stats().Copies; got != copies {
		t.Errorf("%d COPYs after the late events and the second backfill, want none", got-copies)
	}
	e.checkRowsOnce(keysOf(evs))
	daemon.stop(t)
	jobs := e.jobs()
	if len(jobs[journal.Acked]) != n || len(jobs) != 1 {
		t.Errorf("journal: %d acked jobs (states %d), want %d acked", len(jobs[journal.Acked]), len(jobs), n)
	}
	e.assertNoSecrets()
}

// TestBackfillAloneVersioned: no daemon, a versioned bucket (events carry
// versionId, a listing does not). Backfill opens the journal itself; a dry
// run says what would load; twice loads nothing the second time; the events
// of every object arriving afterwards load nothing; an object overwritten
// without an event is reported superseded and loaded by the next backfill.
func TestBackfillAloneVersioned(t *testing.T) {
	if testing.Short() {
		t.Skip("slow end-to-end test: skipped with -short (make test-short); make test runs it")
	}
	const n = 60
	e := newEnv(t)
	if err := e.st.S3().EnableVersioning(context.Background(), e.bucket); err != nil {
		t.Fatal(err)
	}
	e.table("t")
	cfg := e.writeConfig("config.yaml", backfillTargets, "ledger:\n  schema: "+e.schema+"\n")
	evs := e.putObjects("obj/", n, backfillRows)
	if evs[0].VersionID == "" {
		t.Fatal("versioned bucket gave no version id")
	}
	e.sendEvents(evs[:n/3])
	if code, out := e.run(time.Minute, "-config", cfg, "-batch"); code != 0 {
		t.Fatalf("rin -batch exited %d:\n%s", code, tail([]byte(out), 3000))
	}
	src := "s3://" + e.bucket + "/obj/"
	code, out, errOut := e.rinCmd(time.Minute, "backfill", "-config", cfg, "-dry-run", src)
	if code != 0 || !strings.Contains(out, "WOULD LOAD") {
		t.Fatalf("dry run exited %d:\n%s\n%s", code, out, errOut)
	}
	if s := e.backfillSummary(0, "-config", cfg, "-dry-run", src); s.Targets[0].WouldLoad != n-n/3 || s.Targets[0].Already != n/3 {
		t.Fatalf("dry run: %+v; want %d to load, %d already loaded", s, n-n/3, n/3)
	}
	if len(e.rowsBySource("t")) != n/3 {
		t.Fatal("the dry run loaded something")
	}
	for run, loaded := range []int{n - n/3, 0} {
		if s := e.backfillSummary(0, "-config", cfg, src); s.Targets[0].Loaded != loaded || s.Targets[0].Already != n-loaded {
			t.Fatalf("backfill %d: %+v; want %d loaded, %d already", run+1, s, loaded, n-loaded)
		}
	}
	e.checkRowsOnce(keysOf(evs))

	// Every object's event now, with its versionId: all known, none loads.
	copies := e.st.Redshift().Stats().Copies
	e.sendEvents(evs)
	if code, out := e.run(time.Minute, "-config", cfg, "-batch"); code != 0 {
		t.Fatalf("rin -batch with the late events exited %d:\n%s", code, tail([]byte(out), 3000))
	}
	if got := e.st.Redshift().Stats().Copies; got != copies {
		t.Errorf("the late events caused %d COPYs, want none", got-copies)
	}
	e.checkRowsOnce(keysOf(evs))

	// Overwritten without an event: superseded, then backfilled.
	key := evs[7].Key
	e.put(key, object(key, 3))
	rep := e.reconcile(cfg, src, 1)
	if rep.Missing != 1 || rep.Targets[0].Missing[0].Reason != backfill.ReasonSuperseded || !strings.HasSuffix(rep.Targets[0].Missing[0].URI, key) {
		t.Fatalf("after an overwrite: reconcile %+v, want %s superseded", rep.Targets, key)
	}
	if s := e.backfillSummary(0, "-config", cfg, src); s.Targets[0].Loaded != 1 {
		t.Fatalf("backfill after the overwrite: %+v; want the new version loaded", s)
	}
	if got := e.rowsBySource("t")[key]; got != backfillRows+3 {
		t.Errorf("%s: %d rows, want both versions' (%d + 3)", key, got, backfillRows)
	}
	e.reconcile(cfg, src, 0)
}

// TestBackfillKilled: a backfill running alone is SIGKILLed mid-way, COPYs
// in flight; run again, it loads the rest and every row is there once (the
// ledger settles the COPYs whose outcome the first run never learnt).
func TestBackfillKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("slow end-to-end test: skipped with -short (make test-short); make test runs it")
	}
	const n = 200
	e := newEnv(t)
	e.table("t")
	cfg := e.writeConfig("config.yaml", backfillTargets, "ledger:\n  schema: "+e.schema+"\nbatch:\n  max_files: 5\n  max_age: 50ms\n")
	evs := e.putObjects("obj/", n, backfillRows)
	e.copyLatency(100 * time.Millisecond)
	src := "s3://" + e.bucket + "/obj/"
	p := e.start("backfill", "-config", cfg, src)
	e.waitFor(60*time.Second, "the first backfill to load some objects", func() bool { return len(e.rowsBySource("t")) >= n/5 })
	p.kill()
	if got := len(e.rowsBySource("t")); got == n {
		t.Fatal("the backfill finished before it was killed; nothing tested")
	}
	s := e.backfillSummary(0, "-config", cfg, src)
	if tg := s.Targets[0]; tg.Already+tg.Loaded != n || tg.Loaded == 0 {
		t.Errorf("backfill after SIGKILL: %+v; want the rest loaded", s)
	}
	e.checkRowsOnce(keysOf(evs))
	if jobs := e.jobs(); len(jobs[journal.Acked]) != n || len(jobs) != 1 {
		t.Errorf("journal after the rerun: %d acked of %d, %d states", len(jobs[journal.Acked]), n, len(jobs))
	}
}

// putObjects uploads n objects prefix000000…, each of rows rows, and
// returns their events (not sent).
func (e *env) putObjects(prefix string, n, rows int) []stack.ObjectEvent {
	e.t.Helper()
	evs := make([]stack.ObjectEvent, n)
	errs := make(chan error, n)
	idx := make(chan int)
	done := make(chan struct{})
	for range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range idx {
				key := fmt.Sprintf("%s%06d.json", prefix, i)
				body := object(key, rows)
				etag, version, err := e.st.S3().PutObject(context.Background(), e.bucket, key, body)
				if err != nil {
					errs <- err
					continue
				}
				evs[i] = stack.ObjectEvent{Bucket: e.bucket, Key: key, Size: int64(len(body)), ETag: etag, VersionID: version, Time: time.Now()}
			}
		}()
	}
	for i := range n {
		idx <- i
	}
	close(idx)
	for range 8 {
		<-done
	}
	close(errs)
	for err := range errs {
		e.t.Fatalf("upload: %v", err)
	}
	return evs
}

// sendEvents sends one S3 event message per object.
func (e *env) sendEvents(evs []stack.ObjectEvent) {
	e.t.Helper()
	bodies := make([]string, len(evs))
	for i, ev := range evs {
		bodies[i] = stack.S3EventBody(ev)
	}
	if err := sendConcurrently(context.Background(), e.st, e.queueURL, bodies); err != nil {
		e.t.Fatal(err)
	}
}

func keysOf(evs []stack.ObjectEvent) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Key
	}
	sort.Strings(out)
	return out
}

// checkRowsOnce fails unless table t holds exactly the keys, each with
// backfillRows rows.
func (e *env) checkRowsOnce(keys []string) {
	e.t.Helper()
	rows := e.rowsBySource("t")
	for _, k := range keys {
		if rows[k] != backfillRows {
			e.t.Errorf("%s: %d rows, want %d (loaded exactly once)", k, rows[k], backfillRows)
		}
	}
	if len(rows) != len(keys) {
		e.t.Errorf("%d objects in the table, want %d", len(rows), len(keys))
	}
}
