package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rinhq/rin/internal/stack"
	"github.com/rinhq/rin/journal"
)

// envInt reads a size knob; CI runs the reduced defaults, `make crashtest`
// the full size.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// TestCrashExactlyOnce is the exactly-once proof: objects arrive over SQS
// (some events twice, some records twice in one message, some keys prefixes
// of others) while rin is SIGKILLed at random moments and restarted on the
// same journal, and the Redshift simulator drops connections right after
// COMMIT, fails COPYs with transient errors and goes read-only for a while.
// Afterwards every row of every good object must be present exactly once,
// the queue empty, and every job acked — or failed, for exactly the bad
// objects planted on purpose.
func TestCrashExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("slow end-to-end test: skipped with -short (make test-short); make test runs it")
	}
	objects := envInt("RIN_CRASH_OBJECTS", 300)
	kills := envInt("RIN_CRASH_KILLS", 8)
	seed := uint64(envInt("RIN_CRASH_SEED", int(time.Now().UnixNano()%1e9)))
	faultKills := envInt("RIN_CRASH_FAULT_KILLS", kills) // kills with a fault injected, from the first
	t.Logf("crash test: %d objects, %d kills, seed %d (RIN_CRASH_SEED to replay)", objects, kills, seed)
	rng := rand.New(rand.NewPCG(seed, 1))

	// The queue's dead-letter policy is the operator's choice; here it must
	// not move messages away while rin is being killed every second (each
	// kill between a receive and its journaling counts as a receive).
	e := newEnvWith(t, stack.QueueOptions{VisibilityTimeout: 20, MaxReceiveCount: envInt("RIN_CRASH_MAX_RECEIVE", 1000)})
	e.table("foo")
	e.exec(fmt.Sprintf(`CREATE SCHEMA "%s_app"`, e.schema))
	for _, tbl := range []string{"access", "error"} {
		e.exec(fmt.Sprintf(`CREATE TABLE "%s_app"."%s" (src varchar(1024), n int, msg varchar(256))`, e.schema, tbl))
	}
	targets := fooTarget + fmt.Sprintf("  - redshift: {schema: $1, table: $2}\n    s3: {key_regexp: '^logs/(%s_app)/(access|error)/'}\n", e.schema)
	cfg := e.writeConfig("config.yaml", targets, "batch:\n  max_files: 50\n  max_age: 100ms\nreceive:\n  wait_time: 1s\n  visibility_timeout: 5s\n")

	// The objects: rows vary; every 10th key is a prefix of another key
	// (foo/k/1 and foo/k/10); a few objects are bad data on purpose.
	type obj struct {
		key, table string
		rows       int
		bad        bool
	}
	var objs []obj
	for i := 0; len(objs) < objects; i++ {
		o := obj{rows: 1 + rng.IntN(5)}
		switch i % 3 {
		case 0, 1:
			o.key, o.table = fmt.Sprintf("foo/k/%d", i), "foo"
		default:
			kind := []string{"access", "error"}[rng.IntN(2)]
			o.key, o.table = fmt.Sprintf("logs/%s_app/%s/%d.json", e.schema, kind, i), kind
		}
		o.bad = i%97 == 50
		objs = append(objs, o)
	}

	// Upload everything first (S3 is not what is under test), then send
	// the events from a goroutine while rin is being killed.
	events := make([]stack.ObjectEvent, len(objs))
	for i, o := range objs {
		body := object(o.key, o.rows)
		if o.bad {
			body = []byte("{\"src\": this is not JSON\n")
		}
		events[i] = e.put(o.key, body)
	}
	var sendWG sync.WaitGroup
	sendWG.Add(1)
	go func() {
		defer sendWG.Done()
		r := rand.New(rand.NewPCG(seed, 2))
		for i := 0; i < len(events); {
			n := 1 + r.IntN(4) // several records per message
			batch := append([]stack.ObjectEvent(nil), events[i:min(i+n, len(events))]...)
			if r.IntN(10) == 0 {
				batch = append(batch, batch[0]) // a record twice in one message
			}
			body := stack.S3EventBody(batch...)
			if _, err := e.st.SQS().SendMessage(context.Background(), e.queueURL, body); err != nil {
				t.Errorf("send: %v", err)
				return
			}
			if r.IntN(8) == 0 { // the same event again: a duplicate delivery
				e.st.SQS().SendMessage(context.Background(), e.queueURL, body)
			}
			i += n
			time.Sleep(time.Duration(r.IntN(3)) * time.Millisecond)
		}
	}()

	// Faults, injected between kills.
	sim := e.st.Redshift()
	defer sim.ResetFaults()
	sim.SetCopyLatency(20 * time.Millisecond)
	faults := []func(){
		func() { sim.DropAfterNextCommits(1) },
		func() { sim.FailNextCopies(2, "57P01", "terminating connection due to administrator command") },
		func() { sim.DropAfterNextCommits(2) },
		func() {
			sim.SetReadOnly(true)
			time.AfterFunc(3*time.Second, func() { sim.SetReadOnly(false) })
		},
	}
	before := sim.Stats()
	for k := 0; k < kills; k++ {
		p := e.start("-config", cfg)
		if k < faultKills {
			faults[k%len(faults)]()
		}
		time.Sleep(time.Duration(300+rng.IntN(1500)) * time.Millisecond)
		p.kill()
	}
	sendWG.Wait()
	sim.SetReadOnly(false)
	p := e.start("-config", cfg)

	good := map[string]map[string]int{} // table → key → rows
	bad := 0
	for _, o := range objs {
		if o.bad {
			bad++
			continue
		}
		if good[o.table] == nil {
			good[o.table] = map[string]int{}
		}
		good[o.table][o.key] = o.rows
	}
	schemaOf := func(table string) string {
		if table == "foo" {
			return e.schema
		}
		return e.schema + "_app"
	}
	loaded := func() int {
		n := 0
		for tbl := range good {
			n += len(e.rowsIn(schemaOf(tbl), tbl))
		}
		return n
	}
	deadline := time.Now().Add(5 * time.Minute)
	for loaded() != len(objs)-bad {
		if time.Now().After(deadline) {
			p.stop(t)
			e.explainMissing(good, schemaOf)
			t.Fatalf("timed out: %d of %d good objects loaded", loaded(), len(objs)-bad)
		}
		time.Sleep(200 * time.Millisecond)
	}
	e.waitFor(2*time.Minute, "queue empty", e.queueEmpty)
	// Let parked bad objects finish their attempts and the last acks land.
	e.waitFor(2*time.Minute, "no pending job", func() bool {
		return countLines(e, "job failed: parked") >= bad
	})
	time.Sleep(2 * time.Second)
	p.stop(t)
	after := sim.Stats()

	for tbl, want := range good {
		e.assertRows(schemaOf(tbl), tbl, want)
	}
	e.assertSettled(bad)
	jobs := e.jobs()
	if n := len(jobs[journal.Failed]); n != bad {
		t.Errorf("%d failed jobs, want exactly the %d bad objects", n, bad)
	}
	j, err := journal.Open(filepath.Join(e.dir, "rin.journal.db"), journal.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	problems, err := j.Check()
	j.Close()
	if err != nil || len(problems) > 0 {
		t.Errorf("journal check: %v %v", problems, err)
	}
	t.Logf("crash test: %d objects (%d bad), %d kills, %d commits dropped, %d COPYs failed, %d COPYs: 0 missing, 0 duplicated",
		len(objs), bad, kills, after.CommitsDropped-before.CommitsDropped, after.CopiesFailed-before.CopiesFailed, after.Copies-before.Copies)
}

// explainMissing says, for the good objects not loaded, what the journal
// and the queues know of them: the first thing a reader of a failed crash
// test needs.
func (e *env) explainMissing(good map[string]map[string]int, schemaOf func(string) string) {
	e.t.Helper()
	byKey := map[string][]journal.Job{}
	for _, js := range e.jobs() {
		for _, j := range js {
			byKey[j.Key] = append(byKey[j.Key], j)
		}
	}
	shown := 0
	for tbl, want := range good {
		got := e.rowsIn(schemaOf(tbl), tbl)
		for k := range want {
			if got[k] > 0 {
				continue
			}
			if shown++; shown <= 20 {
				e.t.Logf("missing %s: journal jobs %+v", k, byKey[k])
			}
		}
	}
	e.t.Logf("%d good objects missing", shown)
	ctx := context.Background()
	if n, err := e.st.SQS().ApproximateCount(ctx, e.queueURL); err == nil {
		e.t.Logf("queue holds %d messages", n)
	}
	if url, err := e.st.SQS().QueueURL(ctx, stack.DLQName(e.queue)); err == nil {
		if n, err := e.st.SQS().ApproximateCount(ctx, url); err == nil {
			e.t.Logf("dead-letter queue holds %d messages", n)
		}
	}
}
