package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rinhq/rin/internal/stack"
)

// The Lambda tests run the rin binary under the AWS Lambda runtime
// interface emulator, fed by stack.ESM playing the event source mapping,
// against the local stack. Every one checks each row loaded exactly once.

const lambdaTargets = fooTarget +
	"  - redshift: {table: bar}\n    s3: {key_prefix: bar/}\n" +
	"  - discard: true\n    s3: {key_prefix: skip/}\n"

func TestLambdaLoad(t *testing.T) {
	e := newEnvWith(t, stack.QueueOptions{VisibilityTimeout: int(6 * lambdaTimeout / time.Second)})
	e.table("foo")
	e.table("bar")
	f := e.deployLambda(lambdaTargets, 2)
	before := e.st.Redshift().Stats()

	var bodies, foo, bar []string
	for i := 0; i < 40; i++ {
		k := fmt.Sprintf("foo/%03d.json", i)
		foo = append(foo, k)
		ev := e.put(k, object(k, 3))
		switch i % 4 {
		case 0:
			bodies = append(bodies, stack.SNSWrap(stack.S3EventBody(ev), "arn:aws:sns:us-east-1:100010001000:rin"))
		case 1:
			bodies = append(bodies, stack.EventBridgeBody(ev))
		default:
			bodies = append(bodies, stack.S3EventBody(ev))
		}
	}
	var three []stack.ObjectEvent // one message, three objects
	for i := 0; i < 18; i++ {
		k := fmt.Sprintf("bar/%03d.json", i)
		bar = append(bar, k)
		ev := e.put(k, object(k, 2))
		if i < 3 {
			three = append(three, ev)
			continue
		}
		bodies = append(bodies, stack.S3EventBody(ev))
	}
	bodies = append(bodies, stack.S3EventBody(three...), stack.TestEventBody(e.bucket))
	for i := 0; i < 5; i++ {
		bodies = append(bodies, stack.S3EventBody(e.put(fmt.Sprintf("skip/%d.json", i), object("skip", 1))))
	}
	e.sendAll(bodies)

	f.drain(2*time.Minute, nil)
	e.assertExactlyOnce("foo", foo, 3)
	e.assertExactlyOnce("bar", bar, 2)
	f.assertAnswered(nil)
	f.assertClean()
	invs := f.invocations()
	copies := e.st.Redshift().Stats().Copies - before.Copies
	t.Logf("%d messages, %d objects: %d invocations, %d COPYs", len(bodies), len(foo)+len(bar), len(invs), copies)
	if copies > int64(len(invs)*2) || copies >= int64(len(foo)+len(bar)) {
		t.Errorf("%d COPYs for %d invocations: each invocation's objects should share one COPY per table", copies, len(invs))
	}
	// Warm environments are reused: rin starts once per emulator.
	if n := e.logCount("rin Lambda function ready"); n > len(f.fns) || n == 0 {
		t.Errorf("rin started %d times on %d emulators", n, len(f.fns))
	}
}

func TestLambdaEveryMessageDeliveredTwice(t *testing.T) {
	e := newEnvWith(t, stack.QueueOptions{VisibilityTimeout: int(6 * lambdaTimeout / time.Second)})
	e.table("foo")
	f := e.deployLambda(fooTarget, 2)
	var keys, bodies []string
	for i := 0; i < 30; i++ {
		k := fmt.Sprintf("foo/%03d.json", i)
		keys = append(keys, k)
		body := stack.S3EventBody(e.put(k, object(k, 2)))
		bodies = append(bodies, body, body) // S3 sent its event twice
	}
	e.sendAll(bodies)

	// Each batch also reaches both environments at once, as when SQS
	// redelivers a message still being processed: one invocation only
	// answers, the other's answer is applied.
	a, b := f.fns[0], f.fns[1]
	ctx := context.Background()
	for i := 0; !e.queueEmpty(); i++ {
		if i > 50 {
			t.Fatal("queue not drained after 50 batches")
		}
		recs, err := f.esm.Receive(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			continue
		}
		var wg sync.WaitGroup
		var dup stack.Invocation
		var dupErr error
		wg.Add(1)
		go func() {
			defer wg.Done()
			payload, _ := json.Marshal(events.SQSEvent{Records: recs})
			dup.Records = recs
			dup.Result, dupErr = a.Invoke(ctx, payload)
			dup.Outcome = stack.Judge(recs, dup.Result)
		}()
		inv, err := f.esm.Invoke(ctx, b, recs)
		wg.Wait()
		if err != nil || dupErr != nil {
			t.Fatal(err, dupErr)
		}
		f.record(inv)
		f.record(dup)
	}
	e.assertExactlyOnce("foo", keys, 2)
	f.assertAnswered(nil)
	f.assertClean()
	if !e.logsContain("already loaded (ledger)") {
		t.Error("no duplicate went through the ledger; the test proves little")
	}
}

func TestLambdaDroppedCommit(t *testing.T) {
	e := newEnvWith(t, stack.QueueOptions{VisibilityTimeout: int(6 * lambdaTimeout / time.Second)})
	e.table("foo")
	f := e.deployLambda(fooTarget, 1)
	var keys, bodies []string
	for i := 0; i < 12; i++ {
		k := fmt.Sprintf("foo/%03d.json", i)
		keys = append(keys, k)
		bodies = append(bodies, stack.S3EventBody(e.put(k, object(k, 4))))
	}
	e.sendAll(bodies)
	sim := e.st.Redshift()
	defer sim.ResetFaults()
	before := sim.Stats()
	sim.DropAfterNextCommits(2)

	f.drain(2*time.Minute, nil)
	if sim.Stats().CommitsDropped == before.CommitsDropped {
		t.Fatal("the simulator dropped no commit; the test proves nothing")
	}
	e.assertExactlyOnce("foo", keys, 4)
	f.assertAnswered(allIDs(f.invocations()))
	f.assertClean()
	if !e.logsContain("already loaded (ledger)") {
		t.Error("the retry after the lost commit did not go through the ledger")
	}
}

// accessDenied is how Redshift reports a COPY whose role may not read the
// manifest: a fault of the bucket, never of the objects.
const accessDenied = "Problem reading manifest file - S3ServiceException:Access Denied,Status 403,Error AccessDenied,Rid 1,ExtRid 2,CanRetry 1"

func TestLambdaAccessDeniedWindow(t *testing.T) {
	if testing.Short() {
		t.Skip("slow end-to-end test: skipped with -short (make test-short); make test runs it")
	}
	e := newEnvWith(t, stack.QueueOptions{VisibilityTimeout: int(6 * lambdaTimeout / time.Second)})
	e.table("foo")
	f := e.deployLambda(fooTarget, 1)
	var keys, bodies []string
	for i := 0; i < 10; i++ {
		k := fmt.Sprintf("foo/%03d.json", i)
		keys = append(keys, k)
		bodies = append(bodies, stack.S3EventBody(e.put(k, object(k, 3))))
	}
	e.sendAll(bodies)
	sim := e.st.Redshift()
	defer sim.ResetFaults()
	sim.FailNextCopies(1_000_000, "XX000", accessDenied)

	// One invocation during the window: every record comes back, in time.
	ctx := context.Background()
	var recs []events.SQSMessage
	for len(recs) < len(bodies) {
		more, err := f.esm.Receive(ctx)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, more...)
	}
	inv, err := f.esm.Invoke(ctx, f.fns[0], recs)
	if err != nil {
		t.Fatal(err)
	}
	f.record(inv)
	var ids []string
	for _, r := range recs {
		ids = append(ids, r.MessageId)
	}
	got := slices.Sorted(slices.Values(inv.Outcome.Failures))
	if want := slices.Sorted(slices.Values(ids)); !slices.Equal(got, want) || inv.Deleted != 0 {
		t.Fatalf("during the window: returned %d of %d records, deleted %d; want all returned", len(got), len(want), inv.Deleted)
	}
	if rows := e.rowsBySource("foo"); len(rows) != 0 {
		t.Fatalf("rows loaded during the window: %v", rows)
	}

	// The permission is fixed: later invocations load everything, once.
	sim.FailNextCopies(0, "", "")
	f.drain(2*time.Minute, nil)
	e.assertExactlyOnce("foo", keys, 3)
	f.assertAnswered(allIDs(f.invocations()[:1]))
	for i, inv := range f.invocations()[1:] {
		if len(inv.Outcome.Failures) > 0 {
			t.Errorf("invocation %d after the window returned %v", i+1, inv.Outcome.Failures)
		}
	}
	f.assertClean()
}

func TestLambdaPoisonAmongValid(t *testing.T) {
	e := newEnvWith(t, stack.QueueOptions{VisibilityTimeout: int(6 * lambdaTimeout / time.Second)})
	e.table("foo")
	f := e.deployLambda(fooTarget, 1)
	poison := []string{
		"not json at all",
		`{"Records":"x"}`,
		`{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":""},"object":{"key":"foo/x"}}}]}`,
		`{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"foo/%ZZ"}}}]}`,
		`{"Type":"Notification","Message":"{not json"}`,
		"\x1b[31mpoison-marker-7\x1b[0m",
	}
	var keys, bodies []string
	for i, p := range poison {
		k := fmt.Sprintf("foo/good-%d.json", i)
		keys = append(keys, k)
		bodies = append(bodies, p, stack.S3EventBody(e.put(k, object(k, 2))))
	}
	// Well formed, but its object does not exist (deleted before its COPY):
	// its job ends removed — nothing to load, nothing to retry — so its
	// record is answered like a loaded one, not returned to the queue.
	gone := stack.S3EventBody(stack.ObjectEvent{Bucket: e.bucket, Key: "foo/gone.json", Size: 10, ETag: "0123456789abcdef0123456789abcdef"})
	e.sendAll(append(bodies, gone))

	f.drain(2*time.Minute, func() bool {
		n, err := e.st.SQS().ApproximateCount(context.Background(), e.queueURL)
		return err == nil && n == 0 && len(e.rowsBySource("foo")) == len(keys)
	})
	e.assertExactlyOnce("foo", keys, 2)
	f.assertAnswered(nil) // no record returned, the gone object's neither
	f.assertClean()
	if !e.logsContain("removed: the object was deleted before its COPY") || !e.logsContain("foo/gone.json") {
		t.Error("the record whose object is gone: no job logged as removed")
	}
	if n := e.logCount("poison message dropped"); n != len(poison) {
		t.Errorf("%d poison messages logged as dropped, want %d", n, len(poison))
	}
	if !e.logsContain(`poison-marker-7`) {
		t.Error("a poison body is not in the logs")
	}

	// With RIN_LAMBDA_POISON=redrive, poison is left to the redrive policy.
	redrive := e.deployLambda(fooTarget, 1, "RIN_LAMBDA_POISON=redrive")
	more := []string{"still not json", stack.S3EventBody(e.put("foo/late.json", object("foo/late.json", 2)))}
	sent := e.sendAll(more)
	var recs []events.SQSMessage
	for len(recs) < len(more) {
		r, err := redrive.esm.Receive(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r...)
	}
	inv, err := redrive.esm.Invoke(context.Background(), redrive.fns[0], recs)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(inv.Outcome.Failures, sent[:1]) {
		t.Fatalf("redrive: returned %v, want the poison message %s", inv.Outcome.Failures, sent[0])
	}
	e.assertExactlyOnce("foo", append(keys, "foo/late.json"), 2)
	redrive.assertClean()
	if !strings.Contains(strings.Join(logLines(e, "returned to the queue for its redrive policy"), "\n"), "still not json") {
		t.Error("the redriven poison body is not logged")
	}
}

// allIDs is every record id the invocations saw.
func allIDs(invs []stack.Invocation) map[string]bool {
	out := map[string]bool{}
	for _, inv := range invs {
		for _, r := range inv.Records {
			out[r.MessageId] = true
		}
	}
	return out
}
