package sqsx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/rinhq/rin/internal/localaws"
)

// One goaws serves the package's tests: its state is global, so queues are
// created serially (localaws.SQS serialises creation) and no test is parallel.
var (
	goawsOnce sync.Once
	goaws     *localaws.SQS
	goawsErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if goaws != nil {
		_ = goaws.Stop()
	}
	os.Exit(code)
}

func sqsServer(t *testing.T) *localaws.SQS {
	t.Helper()
	goawsOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		goaws, goawsErr = localaws.StartSQS(ctx, localaws.SQSOptions{})
	})
	if goawsErr != nil {
		t.Fatalf("start goaws: %v", goawsErr)
	}
	return goaws
}

// wireLog records what reaches the endpoint: operation names and, for batch
// calls, how many entries each carried. It can also fail chosen requests
// the way goaws's flaky connections do.
type wireLog struct {
	mu      sync.Mutex
	ops     []string
	entries map[string][]int
	hosts   map[string]bool
	// failNext makes the next n requests fail before reaching the server.
	failNext atomic.Int32
	next     http.RoundTripper
}

func (w *wireLog) RoundTrip(req *http.Request) (*http.Response, error) {
	op := strings.TrimPrefix(req.Header.Get("X-Amz-Target"), "AmazonSQS.")
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	var in struct{ Entries []json.RawMessage }
	_ = json.Unmarshal(body, &in)
	w.mu.Lock()
	w.ops = append(w.ops, op)
	w.entries[op] = append(w.entries[op], len(in.Entries))
	w.hosts[req.URL.Host] = true
	w.mu.Unlock()
	if w.failNext.Add(-1) >= 0 {
		// What the client sees when goaws drops a kept-alive connection.
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: errors.New("use of closed network connection")}
	}
	w.failNext.Store(0)
	return w.next.RoundTrip(req)
}

func (w *wireLog) count(op string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, o := range w.ops {
		if o == op {
			n++
		}
	}
	return n
}

func (w *wireLog) batchSizes(op string) []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]int(nil), w.entries[op]...)
}

// testQueue creates a fresh queue and opens it through a client that sends
// to goaws's endpoint with the SDK's default retryer, logging the wire.
func testQueue(t *testing.T, visibility int) (*Queue, *wireLog) {
	t.Helper()
	srv := sqsServer(t)
	// goaws keeps queues for its life: a name of this run's own, so that
	// -count=2 does not find the first run's messages.
	name := strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if _, err := srv.CreateQueue(t.Context(), name, localaws.QueueOptions{VisibilityTimeout: visibility}); err != nil {
		t.Fatal(err)
	}
	wl := &wireLog{entries: map[string][]int{}, hosts: map[string]bool{}, next: http.DefaultTransport.(*http.Transport).Clone()}
	client := sqs.New(sqs.Options{
		Region:       localaws.Region,
		BaseEndpoint: aws.String(srv.Endpoint()),
		Credentials:  credentials.NewStaticCredentialsProvider(localaws.AccessKeyID, localaws.SecretAccessKey, ""),
		HTTPClient:   &http.Client{Transport: wl},
	})
	q, err := Open(t.Context(), client, name)
	if err != nil {
		t.Fatal(err)
	}
	return q, wl
}

func send(t *testing.T, q *Queue, bodies ...string) {
	t.Helper()
	if err := sqsServer(t).SendBatch(t.Context(), q.URL(), bodies); err != nil {
		t.Fatal(err)
	}
}

func TestOpen(t *testing.T) {
	q, wl := testQueue(t, 0)
	// goaws's queue URL names a host that does not resolve; requests must
	// still reach the endpoint, and only the endpoint.
	u, err := url.Parse(q.URL())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u.Host, "us-east-1.") || !strings.HasSuffix(q.URL(), "/"+q.Name()) {
		t.Fatalf("unexpected queue URL %q", q.URL())
	}
	if _, _, err := q.ApproximateCounts(t.Context()); err != nil {
		t.Fatalf("request with the queue URL failed: %v", err)
	}
	endpoint, _ := url.Parse(sqsServer(t).Endpoint())
	if len(wl.hosts) != 1 || !wl.hosts[endpoint.Host] {
		t.Fatalf("requests went to %v, want only %s", wl.hosts, endpoint.Host)
	}

	_, err = Open(t.Context(), sqsServer(t).Client(), "no-such-queue-here")
	if !errors.Is(err, ErrNoSuchQueue) || !strings.Contains(err.Error(), `"no-such-queue-here"`) {
		t.Fatalf("Open of a missing queue: %v", err)
	}
	if _, err := Open(t.Context(), nil, "x"); err == nil {
		t.Fatal("Open with a nil client succeeded")
	}
	if _, err := Open(t.Context(), sqsServer(t).Client(), ""); err == nil {
		t.Fatal("Open with an empty name succeeded")
	}
}

func TestReceiveLongPoll(t *testing.T) {
	q, _ := testQueue(t, 0)
	ctx := t.Context()

	// Nothing arrives: the call waits about as long as asked.
	start := time.Now()
	msgs, err := q.Receive(ctx, 10, time.Second, 0)
	if err != nil || len(msgs) != 0 {
		t.Fatalf("Receive on empty queue: %v, %v", msgs, err)
	}
	if d := time.Since(start); d < 800*time.Millisecond {
		t.Fatalf("empty long poll returned after %v, want about 1s", d)
	}

	// A message sent during the wait ends it early.
	go func() {
		time.Sleep(500 * time.Millisecond)
		if _, err := sqsServer(t).SendMessage(context.Background(), q.URL(), "hello"); err != nil {
			t.Error(err)
		}
	}()
	start = time.Now()
	msgs, err = q.Receive(ctx, 10, 10*time.Second, 30*time.Second)
	elapsed := time.Since(start)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Receive: %v, %v", msgs, err)
	}
	if elapsed > 5*time.Second {
		t.Fatalf("long poll took %v after a message arrived at 0.5s", elapsed)
	}
	m := msgs[0]
	if m.Body != "hello" || m.ID == "" || m.ReceiptHandle == "" || m.ReceiveCount != 1 || m.SentAt.IsZero() {
		t.Fatalf("message %+v", m)
	}

	// Cancelling the context ends a long poll promptly.
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = q.Receive(cctx, 1, 20*time.Second, 0)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), q.Name()) {
		t.Fatalf("Receive with expiring context: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("cancelled long poll took %v", d)
	}
}

// eventually polls Receive (no wait) until it returns a message or d passes.
func eventually(t *testing.T, q *Queue, d time.Duration) []Message {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		msgs, err := q.Receive(t.Context(), 10, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) > 0 {
			return msgs
		}
		time.Sleep(200 * time.Millisecond)
	}
	return nil
}

func TestVisibility(t *testing.T) {
	if testing.Short() {
		t.Skip("slow test: skipped with -short (make test-short); make test runs it")
	}
	q, wl := testQueue(t, 0)
	ctx := t.Context()
	send(t, q, "m")

	// Hidden for the visibility timeout, then back.
	msgs, err := q.Receive(ctx, 10, time.Second, 2*time.Second)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Receive: %v, %v", msgs, err)
	}
	first := msgs[0]
	if again, _ := q.Receive(ctx, 10, 0, 0); len(again) != 0 {
		t.Fatalf("message visible during its visibility timeout: %+v", again)
	}
	back := eventually(t, q, 6*time.Second)
	if len(back) != 1 || back[0].ID != first.ID {
		t.Fatalf("message did not reappear: %+v", back)
	}

	// ChangeVisibility extends: the message stays hidden past the original
	// 2s timeout.
	handle := back[0].ReceiptHandle
	failed, err := q.ChangeVisibility(ctx, []string{handle}, 8*time.Second)
	if err != nil || len(failed) != 0 {
		t.Fatalf("ChangeVisibility: %v, %v", failed, err)
	}
	time.Sleep(3500 * time.Millisecond)
	if again, _ := q.Receive(ctx, 10, 0, 0); len(again) != 0 {
		t.Fatalf("message visible despite the extension: %+v", again)
	}
	// goaws lacks ChangeMessageVisibilityBatch; the Queue must have noticed
	// once and fallen back to single calls.
	if !q.noVisibilityBatch.Load() || wl.count("ChangeMessageVisibilityBatch") != 1 || wl.count("ChangeMessageVisibility") != 1 {
		t.Fatalf("calls: %v", wl.ops)
	}

	// A zero timeout releases the message at once.
	if failed, err := q.ChangeVisibility(ctx, []string{handle}, 0); err != nil || len(failed) != 0 {
		t.Fatalf("ChangeVisibility 0: %v, %v", failed, err)
	}
	if back := eventually(t, q, 3*time.Second); len(back) != 1 {
		t.Fatalf("released message not received: %+v", back)
	}
}

func TestDeleteInBatches(t *testing.T) {
	q, wl := testQueue(t, 60)
	ctx := t.Context()
	const n = 23
	bodies := make([]string, n)
	for i := range bodies {
		bodies[i] = fmt.Sprintf("m%d", i)
	}
	send(t, q, bodies...)
	var handles []string
	for len(handles) < n {
		msgs, err := q.Receive(ctx, 10, time.Second, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 0 {
			t.Fatalf("received %d of %d", len(handles), n)
		}
		for _, m := range msgs {
			handles = append(handles, m.ReceiptHandle)
		}
	}
	if visible, inFlight, err := q.ApproximateCounts(ctx); err != nil || inFlight != n || visible < 0 {
		t.Fatalf("counts: visible %d in flight %d, %v", visible, inFlight, err)
	}
	// A duplicate handle is sent once.
	failed, err := q.Delete(ctx, append(handles, handles[0]))
	if err != nil || len(failed) != 0 {
		t.Fatalf("Delete: %v, %v", failed, err)
	}
	// The requests go concurrently (batch.go), so in any order.
	got := wl.batchSizes("DeleteMessageBatch")
	slices.Sort(got)
	if fmt.Sprint(got) != "[3 10 10]" {
		t.Fatalf("DeleteMessageBatch entry counts %v, want 10, 10 and 3", got)
	}
	visible, inFlight, err := q.ApproximateCounts(ctx)
	if err != nil || visible != 0 || inFlight != 0 {
		t.Fatalf("after delete: visible %d in flight %d, %v", visible, inFlight, err)
	}
	if len(q.received) != 0 {
		t.Fatalf("receive times of deleted handles kept: %d", len(q.received))
	}
	if failed, err := q.Delete(ctx, nil); err != nil || failed == nil || len(failed) != 0 {
		t.Fatalf("Delete(nil): %v, %v", failed, err)
	}
}

func TestStaleHandle(t *testing.T) {
	q, _ := testQueue(t, 0)
	ctx := t.Context()
	send(t, q, "m")
	msgs, err := q.Receive(ctx, 1, time.Second, time.Second)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Receive: %v, %v", msgs, err)
	}
	old := msgs[0].ReceiptHandle
	again := eventually(t, q, 5*time.Second)
	if len(again) != 1 || again[0].ReceiptHandle == old {
		t.Fatalf("second receive: %+v", again)
	}
	current := again[0].ReceiptHandle

	// Visibility of the old handle: goaws says MessageNotInFlight.
	failed, err := q.ChangeVisibility(ctx, []string{old, current}, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(failed) != 1 || !errors.Is(failed[old], ErrStaleHandle) {
		t.Fatalf("ChangeVisibility with old handle: %v", failed)
	}

	// Delete with the old handle and a made-up one: both stale, the
	// current one deleted.
	failed, err = q.Delete(ctx, []string{old, "not-a-handle", current})
	if err != nil {
		t.Fatal(err)
	}
	if len(failed) != 2 || !errors.Is(failed[old], ErrStaleHandle) || !errors.Is(failed["not-a-handle"], ErrStaleHandle) {
		t.Fatalf("Delete: %v", failed)
	}
	var ee *EntryError
	if !errors.As(failed[old], &ee) || ee.Queue != q.Name() || ee.Op != "delete" {
		t.Fatalf("entry error %#v", failed[old])
	}
	if visible, inFlight, err := q.ApproximateCounts(ctx); err != nil || visible+inFlight != 0 {
		t.Fatalf("counts after delete: %d %d %v", visible, inFlight, err)
	}
}

func TestApproximateCounts(t *testing.T) {
	q, _ := testQueue(t, 60)
	ctx := t.Context()
	send(t, q, "a", "b", "c")
	if _, err := q.Receive(ctx, 1, time.Second, time.Minute); err != nil {
		t.Fatal(err)
	}
	visible, inFlight, err := q.ApproximateCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// goaws counts in-flight messages as visible too (3); SQS would say 2.
	if inFlight != 1 || (visible != 2 && visible != 3) {
		t.Fatalf("visible %d in flight %d", visible, inFlight)
	}
}

// The SDK's default retryer must absorb the "use of closed network
// connection" errors goaws causes under load.
func TestClosedConnectionRetried(t *testing.T) {
	q, wl := testQueue(t, 0)
	ctx := t.Context()
	send(t, q, "m")
	wl.failNext.Store(1)
	before := wl.count("ReceiveMessage")
	msgs, err := q.Receive(ctx, 1, time.Second, 0)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Receive after a dropped connection: %v, %v", msgs, err)
	}
	if got := wl.count("ReceiveMessage") - before; got != 2 {
		t.Fatalf("ReceiveMessage attempts %d, want 2", got)
	}
	wl.failNext.Store(1)
	if failed, err := q.Delete(ctx, []string{msgs[0].ReceiptHandle}); err != nil || len(failed) != 0 {
		t.Fatalf("Delete after a dropped connection: %v, %v", failed, err)
	}
}

// Retention reads the queue's MessageRetentionPeriod (the engine warns
// before SQS expires messages it still holds).
func TestRetention(t *testing.T) {
	q, _ := testQueue(t, 60)
	got, err := q.Retention(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got != 4*24*time.Hour {
		t.Fatalf("retention %s; want SQS's default of 4 days", got)
	}
}
