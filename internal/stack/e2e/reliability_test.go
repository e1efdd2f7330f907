package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/rinhq/rin/admin"
	"github.com/rinhq/rin/internal/stack"
	"github.com/rinhq/rin/journal"
)

const fooTarget = "  - redshift: {table: foo}\n    s3: {key_prefix: foo/}\n"

// assertExactlyOnce checks that table holds rows rows of each key, and no
// other object.
func (e *env) assertExactlyOnce(table string, keys []string, rows int) {
	e.t.Helper()
	want := map[string]int{}
	for _, k := range keys {
		want[k] = rows
	}
	e.assertRows(e.schema, table, want)
}

// assertRows checks that table holds exactly want[key] rows of each key and
// no other object, and says how many objects are missing or duplicated.
func (e *env) assertRows(schema, table string, want map[string]int) {
	e.t.Helper()
	got := e.rowsIn(schema, table)
	missing, dup := 0, 0
	for k, rows := range want {
		switch n := got[k]; {
		case n < rows:
			missing++
		case n > rows:
			dup++
		}
		delete(got, k)
	}
	if missing > 0 || dup > 0 || len(got) > 0 {
		e.t.Fatalf("table %s: %d objects missing rows, %d duplicated, %d unexpected objects (%v)", table, missing, dup, len(got), got)
	}
}

// assertSettled checks the queue is empty and every job is acked (or failed
// when allowed).
func (e *env) assertSettled(allowFailed int) {
	e.t.Helper()
	if !e.queueEmpty() {
		e.t.Error("queue not empty")
	}
	jobs := e.jobs()
	for s, js := range jobs {
		if s == journal.Acked || s == journal.Superseded || s == journal.Removed || (s == journal.Failed && len(js) <= allowFailed) {
			continue
		}
		e.t.Errorf("%d jobs %s, e.g. %+v", len(js), s, js[0])
	}
}

func TestRetryWithBackoffThenSuccess(t *testing.T) {
	e := newEnv(t)
	e.table("foo")
	cfg := e.writeConfig("config.yaml", fooTarget, "")
	sim := e.st.Redshift()
	// Two endpoint failures (the endpoint is held and probed), then one
	// data error (retried after backoff), then success.
	sim.FailNextCopies(2, "57P01", "terminating connection due to administrator command")
	e.putAndNotify("foo/1.json", 5)
	p := e.start("-config", cfg)
	e.waitFor(30*time.Second, "two transient failures", func() bool { return countLines(e, "environment fault") >= 2 })
	sim.FailNextCopies(1, "XX000", "Load into table 'foo' failed. Check 'stl_load_errors' system table for details.")
	e.waitFor(60*time.Second, "row loaded", func() bool { return len(e.rowsBySource("foo")) == 1 })
	e.waitFor(30*time.Second, "queue empty", e.queueEmpty)
	p.stop(t)
	e.assertExactlyOnce("foo", []string{"foo/1.json"}, 5)
	e.assertSettled(0)
	job := e.jobs()[journal.Acked][0]
	if job.Attempts < 3 {
		t.Errorf("job took %d attempts; want at least 3 (two transient failures, one data error, success)", job.Attempts)
	}
	e.assertNoSecrets()
}

// A missing table holds its target only: the other target loads, the held
// jobs stay received (never failed, their messages kept), and creating the
// table lets them load without a restart or a requeue.
func TestMissingTableHoldsTargetOthersLoad(t *testing.T) {
	e := newEnv(t)
	e.table("foo") // "later" is created mid-test
	cfg := e.writeConfig("config.yaml", fooTarget+"  - redshift: {table: later}\n    s3: {key_prefix: later/}\n", "")
	var keys, later []string
	for i := 0; i < 20; i++ {
		k := fmt.Sprintf("foo/%d.json", i)
		keys = append(keys, k)
		e.putAndNotify(k, 2)
	}
	for i := 0; i < 10; i++ {
		k := fmt.Sprintf("later/%d.json", i)
		later = append(later, k)
		e.putAndNotify(k, 3)
	}
	p := e.start("-config", cfg)
	e.waitFor(60*time.Second, "the other target loaded", func() bool { return len(e.rowsBySource("foo")) == 20 })
	e.waitFor(30*time.Second, "the table held", func() bool { return e.logsContain("scope=table") })
	time.Sleep(2 * time.Second) // a few probes
	// A probe may be in flight (its job copying): look between probes.
	var jobs map[journal.State][]admin.Record
	e.waitFor(30*time.Second, "the held jobs between probes", func() bool {
		jobs = e.liveJobs()
		return len(jobs[journal.Received]) == 10 || len(jobs[journal.Failed]) != 0
	})
	if len(jobs[journal.Failed]) != 0 || len(jobs[journal.Received]) != 10 {
		t.Fatalf("while the table is missing: %d failed, %d received; want 0 and 10", len(jobs[journal.Failed]), len(jobs[journal.Received]))
	}
	for _, j := range jobs[journal.Received] {
		if !strings.Contains(j.LastError, "does not exist") || j.Attempts == 0 {
			t.Fatalf("held job without its attempts and last error: %+v", j)
		}
	}
	if probes := countLines(e, "environment fault"); probes > 12 {
		t.Errorf("%d COPY attempts into the missing table in a few seconds; want a few probes", probes)
	}
	e.table("later")
	e.waitFor(60*time.Second, "held jobs loaded after the table was created", func() bool { return len(e.rowsBySource("later")) == 10 })
	e.waitFor(30*time.Second, "queue empty", e.queueEmpty)
	p.stop(t)
	e.assertExactlyOnce("foo", keys, 2)
	e.assertExactlyOnce("later", later, 3)
	e.assertSettled(0)
}

func TestSigkillMidRunThenRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("slow end-to-end test: skipped with -short (make test-short); make test runs it")
	}
	e := newEnv(t)
	e.table("foo")
	e.table("bar")
	cfg := e.writeConfig("config.yaml", fooTarget+"  - redshift: {table: bar}\n    s3: {key_prefix: bar/}\n", "batch:\n  max_files: 10\n  max_age: 50ms\n")
	e.copyLatency(50 * time.Millisecond)
	var foo, bar []string
	for i := 0; i < 150; i++ {
		k := fmt.Sprintf("foo/%03d.json", i)
		foo = append(foo, k)
		e.putAndNotify(k, 3)
		k = fmt.Sprintf("bar/%03d.json", i)
		bar = append(bar, k)
		e.putAndNotify(k, 2)
	}
	p := e.start("-config", cfg)
	e.waitFor(60*time.Second, "some rows", func() bool { return len(e.rowsBySource("foo")) > 20 })
	p.kill()
	loadedAtKill := len(e.rowsBySource("foo")) + len(e.rowsBySource("bar"))
	p = e.start("-config", cfg)
	e.waitFor(2*time.Minute, "all loaded", func() bool {
		return len(e.rowsBySource("foo")) == 150 && len(e.rowsBySource("bar")) == 150
	})
	e.waitFor(60*time.Second, "queue empty", e.queueEmpty)
	p.stop(t)
	t.Logf("killed with %d of 300 objects loaded", loadedAtKill)
	e.assertExactlyOnce("foo", foo, 3)
	e.assertExactlyOnce("bar", bar, 2)
	e.assertSettled(0)
}

func TestMaxExecutionTimeAndEnvFlags(t *testing.T) {
	if testing.Short() {
		t.Skip("slow end-to-end test: skipped with -short (make test-short); make test runs it")
	}
	e := newEnv(t)
	e.table("foo")
	cfg := e.writeConfig("config.yaml", fooTarget, "")
	start := time.Now()
	code, out := e.run(time.Minute, "-config", cfg, "-max-execution-time", "3s")
	if code != 0 || time.Since(start) > 30*time.Second {
		t.Fatalf("exit %d after %s: %s", code, time.Since(start), tail([]byte(out), 2000))
	}
	// The same through the environment: RIN_CONFIG, RIN_BATCH.
	e.putAndNotify("foo/env.json", 1)
	os.Setenv("RIN_CONFIG", cfg)
	os.Setenv("RIN_BATCH", "true")
	defer os.Unsetenv("RIN_CONFIG")
	defer os.Unsetenv("RIN_BATCH")
	code, out = e.run(time.Minute)
	if code != 0 {
		t.Fatalf("RIN_CONFIG/RIN_BATCH run exited %d: %s", code, tail([]byte(out), 2000))
	}
	e.assertExactlyOnce("foo", []string{"foo/env.json"}, 1)
}

func TestLostCommitLoadsOnce(t *testing.T) {
	e := newEnv(t)
	e.table("foo")
	cfg := e.writeConfig("config.yaml", fooTarget, "")
	sim := e.st.Redshift()
	before := sim.Stats()
	sim.DropAfterNextCommits(1)
	e.putAndNotify("foo/lost.json", 7)
	code, out := e.run(2*time.Minute, "-config", cfg, "-batch")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, tail([]byte(out), 3000))
	}
	after := sim.Stats()
	if after.CommitsDropped == before.CommitsDropped {
		t.Fatal("the simulator dropped no commit; the test proves nothing")
	}
	e.assertExactlyOnce("foo", []string{"foo/lost.json"}, 7)
	e.assertSettled(0)
	if !e.logsContain("already loaded (ledger)") {
		t.Error("the retry after the lost commit did not go through the ledger")
	}
}

func TestPrefixKeysLoadExactly(t *testing.T) {
	e := newEnv(t)
	e.table("foo")
	cfg := e.writeConfig("config.yaml", fooTarget, "")
	keys := []string{"foo/a/1", "foo/a/10", "foo/a/11", "foo/a/1/x"}
	for _, k := range keys {
		e.putAndNotify(k, 2)
	}
	code, out := e.run(2*time.Minute, "-config", cfg, "-batch")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, tail([]byte(out), 3000))
	}
	e.assertExactlyOnce("foo", keys, 2)
}

func TestHostileMessagesRejectedNothingLost(t *testing.T) {
	e := newEnv(t)
	e.table("foo")
	cfg := e.writeConfig("config.yaml", fooTarget, "")
	hostile := []string{
		"not json at all",
		`{"Records":"x"}`,
		`{"Records":[1,2,3]}`,
		`{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":""},"object":{"key":"foo/x"}}}]}`,
		`{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"foo/%ZZ"}}}]}`,
		`{"Type":"Notification","Message":"{not json"}`,
		strings.Repeat("[", 10000),
		`{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"` + e.bucket + `"},"object":{"key":"foo/'; DROP TABLE foo; --"}}}]}`,
	}
	var keys []string
	for i, h := range hostile {
		e.send(h)
		k := fmt.Sprintf("foo/good-%d.json", i)
		keys = append(keys, k)
		e.putAndNotify(k, 1)
	}
	code, out := e.run(2*time.Minute, "-config", cfg, "-batch")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, tail([]byte(out), 3000))
	}
	// The last hostile message is well-formed, for an object that does not
	// exist: its job fails (object gone), the table survives.
	e.assertExactlyOnce("foo", keys, 1)
	e.assertSettled(1)
	j, err := journal.Open(e.dir+"/rin.journal.db", journal.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	rejected := 0
	j.View(func(tx *journal.Tx) error {
		return tx.ForEachRejected(func(r journal.Rejected) error { rejected++; return nil })
	})
	if rejected != len(hostile)-1 {
		t.Errorf("%d messages rejected, want %d", rejected, len(hostile)-1)
	}
}

func TestReadOnlyOutageHoldsThenDrains(t *testing.T) {
	if testing.Short() {
		t.Skip("slow end-to-end test: skipped with -short (make test-short); make test runs it")
	}
	e := newEnv(t)
	e.table("foo")
	cfg := e.writeConfig("config.yaml", fooTarget, "batch:\n  max_files: 5\n  max_age: 50ms\n")
	sim := e.st.Redshift()
	var keys []string
	for i := 0; i < 40; i++ {
		k := fmt.Sprintf("foo/%02d.json", i)
		keys = append(keys, k)
		e.putAndNotify(k, 1)
	}
	sim.SetReadOnly(true)
	defer sim.SetReadOnly(false)
	p := e.start("-config", cfg)
	const outage = 6 * time.Second
	time.Sleep(outage)
	attempts := countLines(e, "environment fault")
	sim.SetReadOnly(false)
	recovered := time.Now()
	e.waitFor(60*time.Second, "all loaded", func() bool { return len(e.rowsBySource("foo")) == 40 })
	drain := time.Since(recovered)
	e.waitFor(30*time.Second, "queue empty", e.queueEmpty)
	p.stop(t)
	e.assertExactlyOnce("foo", keys, 1)
	e.assertSettled(0)
	// Breaker: probes one job at a time, backing off from 100ms to 1s: at
	// most ~outage/100ms·(log) attempts, far fewer than 40 jobs retrying each.
	t.Logf("outage %s: %d COPY transactions attempted; drained in %s after recovery", outage, attempts, drain.Round(10*time.Millisecond))
	if attempts == 0 || attempts > 15 {
		t.Errorf("%d attempts during a %s outage; want 1..15", attempts, outage)
	}
	if drain > 5*time.Second {
		t.Errorf("backlog drained in %s after recovery; want within 5s", drain)
	}
}

func countLines(e *env, s string) int {
	n := 0
	for _, p := range e.logs {
		b, _ := os.ReadFile(p)
		n += strings.Count(string(b), s)
	}
	return n
}

func TestTwoProcessesOneQueue(t *testing.T) {
	e := newEnv(t)
	e.table("foo")
	cfgA := e.writeConfig("a.yaml", fooTarget, "")
	// The second process gets its own journal.
	b, _ := os.ReadFile(cfgA)
	cfgB := e.dir + "/b.yaml"
	os.WriteFile(cfgB, []byte(strings.Replace(string(b), "rin.journal.db", "rin-b.journal.db", 1)), 0o600)
	var keys []string
	for i := 0; i < 60; i++ {
		k := fmt.Sprintf("foo/%02d.json", i)
		keys = append(keys, k)
		ev := e.putAndNotify(k, 2)
		e.send(stack.S3EventBody(ev)) // every event twice: both processes see copies
	}
	pa := e.start("-config", cfgA)
	pb := e.start("-config", cfgB)
	e.waitFor(2*time.Minute, "all loaded", func() bool { return len(e.rowsBySource("foo")) == 60 })
	e.waitFor(60*time.Second, "queue empty", e.queueEmpty)
	pa.stop(t)
	pb.stop(t)
	e.assertExactlyOnce("foo", keys, 2)
}

// TestHeartbeatKeepsLongCopyInvisible: a COPY that takes longer than the
// visibility timeout must not let SQS hand the message to anyone else.
func TestHeartbeatKeepsLongCopyInvisible(t *testing.T) {
	if testing.Short() {
		t.Skip("slow end-to-end test: skipped with -short (make test-short); make test runs it")
	}
	e := newEnv(t)
	e.table("foo")
	cfg := e.writeConfig("config.yaml", fooTarget, "receive:\n  wait_time: 1s\n  visibility_timeout: 2s\n")
	e.copyLatency(7 * time.Second)
	e.putAndNotify("foo/slow.json", 3)
	p := e.start("-config", cfg, "-debug")
	e.waitFor(60*time.Second, "row loaded", func() bool { return len(e.rowsBySource("foo")) == 1 })
	e.waitFor(30*time.Second, "queue empty", e.queueEmpty)
	p.stop(t)
	// A redelivery would show as a second admission of the same message.
	if n := countLines(e, `msg="message admitted"`); n != 1 {
		t.Fatalf("message admitted %d times; the heartbeat should have kept it invisible through a 7s COPY with a 2s visibility timeout", n)
	}
	e.assertExactlyOnce("foo", []string{"foo/slow.json"}, 3)
}

// TestBatchWaitsForInFlightMessages: messages received by someone else and
// not deleted (a rin killed mid-receive, or a response lost in transit) are
// invisible for a while; -batch must wait for them, not exit at the first
// empty receive and leave them behind.
func TestBatchWaitsForInFlightMessages(t *testing.T) {
	if testing.Short() {
		t.Skip("slow end-to-end test: skipped with -short (make test-short); make test runs it")
	}
	e := newEnv(t)
	e.table("foo")
	cfg := e.writeConfig("config.yaml", fooTarget, "")
	keys := e.hideInFlight(3, 3)
	e.runBatchExactlyOnce(cfg, keys)
}

// hideInFlight puts n objects of 2 rows under foo/hidden-, sends their
// events and receives the messages as a rin killed right after would:
// they stay in flight for visibility seconds, then come back. It returns
// the keys.
func (e *env) hideInFlight(n int, visibility int32) []string {
	e.t.Helper()
	var keys []string
	for i := range n {
		k := fmt.Sprintf("foo/hidden-%d.json", i)
		keys = append(keys, k)
		e.putAndNotify(k, 2)
	}
	out, err := e.st.SQS().Client().ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(e.queueURL), MaxNumberOfMessages: 10, VisibilityTimeout: visibility,
	})
	if err != nil || len(out.Messages) != n {
		e.t.Fatalf("hide messages: %v (%d received, want %d)", err, len(out.Messages), n)
	}
	return keys
}

// runBatchExactlyOnce runs rin -batch with cfg and checks that it exits 0
// with every key of 2 rows in table foo once and the queue empty.
func (e *env) runBatchExactlyOnce(cfg string, keys []string) {
	e.t.Helper()
	code, log := e.run(2*time.Minute, "-config", cfg, "-batch")
	if code != 0 {
		e.t.Fatalf("exit %d: %s", code, tail([]byte(log), 2000))
	}
	e.assertExactlyOnce("foo", keys, 2)
	e.assertSettled(0)
}

// TestBatchWaitsForInFlightMessagesWhileDeleting: 3 messages are in flight
// elsewhere (a rin killed after receiving them; hidden for 8 s) while
// rin -batch loads 3,000 others in one 2-second COPY and then deletes them,
// which takes goaws a few tenths of a second, while rin's receivers poll
// the queue's depth. Midway through the deletes the depth is what rin has
// yet to delete plus the 3; rin must not count the messages it is deleting
// as its own then, or the 3 hide behind them and rin exits with them in
// flight. It must wait for them to come back, load them, and leave the
// queue empty.
func TestBatchWaitsForInFlightMessagesWhileDeleting(t *testing.T) {
	if testing.Short() {
		t.Skip("slow end-to-end test: skipped with -short (make test-short); make test runs it")
	}
	e := newEnv(t)
	e.table("foo")
	cfg := e.writeConfig("config.yaml", fooTarget, "batch:\n  max_files: 3000\n")
	e.copyLatency(2 * time.Second)
	keys := e.hideInFlight(3, 8)
	evs := e.putObjects("foo/bulk-", 3000, 2)
	e.sendEvents(evs)
	for _, ev := range evs {
		keys = append(keys, ev.Key)
	}
	e.runBatchExactlyOnce(cfg, keys)
}
