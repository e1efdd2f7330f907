package lambdamode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/internal/localaws"
	"github.com/rinhq/rin/internal/logtest"
)

const testConfig = `
redshift:
  host: rs.example.com
  dbname: db
  user: u
  password: p
  schema: public
s3:
  bucket: b
  region: us-east-1
sql_option: "JSON 'auto'"
targets:
  - redshift:
      table: t
    s3:
      key_prefix: data/
retry:
  initial_interval: 20ms
  max_interval: 200ms
  max_attempts: 2
batch:
  max_age: 10ms
`

// fakeCopier loads by job id with a ledger of its own: a job it has loaded
// is skipped, as redshift's Copier skips what its ledger holds.
type fakeCopier struct {
	mu     sync.Mutex
	loads  map[string]int // object URI → times loaded
	ledger map[string]bool
	copies int
	fail   func(ctx context.Context, b fsm.Batch) error // nil: succeed
}

func newFakeCopier() *fakeCopier {
	return &fakeCopier{loads: map[string]int{}, ledger: map[string]bool{}}
}

func (c *fakeCopier) Copy(ctx context.Context, b fsm.Batch) (fsm.Result, error) {
	c.mu.Lock()
	fail := c.fail
	c.copies++
	c.mu.Unlock()
	if fail != nil {
		if err := fail(ctx, b); err != nil {
			return fsm.Result{}, err
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	res := fsm.Result{Skipped: map[string]bool{}}
	for _, j := range b.Jobs {
		if c.ledger[j.ID] {
			res.Skipped[j.ID] = true
			continue
		}
		c.ledger[j.ID] = true
		c.loads[j.URI()]++
		res.Rows++
	}
	return res, nil
}

func (c *fakeCopier) setFail(f func(ctx context.Context, b fsm.Batch) error) {
	c.mu.Lock()
	c.fail = f
	c.mu.Unlock()
}

func (c *fakeCopier) loaded() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.loads {
		out[k] = v
	}
	return out
}

func newHandler(t *testing.T, c fsm.Copier, opts Options) (*Handler, *logtest.Buffer) {
	t.Helper()
	cfg, err := config.Parse([]byte(testConfig), "test.yaml", config.WithQueueOptional(),
		config.WithLookupEnv(func(string) (string, bool) { return "", false }))
	if err != nil {
		t.Fatal(err)
	}
	logs := &logtest.Buffer{}
	opts.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts.TempDir = t.TempDir()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", logs.String())
		}
	})
	return New(cfg, c, opts), logs
}

func objectBody(keys ...string) string {
	var evs []localaws.ObjectEvent
	for _, k := range keys {
		evs = append(evs, localaws.ObjectEvent{Bucket: "b", Key: k, Size: 10, ETag: fmt.Sprintf("%x", k)})
	}
	return localaws.S3EventBody(evs...)
}

func failures(r events.SQSEventResponse) []string {
	var ids []string
	for _, f := range r.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

func withDeadline(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestHandleLoadsEveryObjectOnceInOneCopy(t *testing.T) {
	c := newFakeCopier()
	h, _ := newHandler(t, c, Options{})
	ev := events.SQSEvent{Records: []events.SQSMessage{
		record("m1", objectBody("data/1.json")),
		record("m2", objectBody("data/2.json", "data/1.json")), // a duplicate S3 event inside
		record("m3", localaws.TestEventBody("b")),
		record("m1", objectBody("data/1.json")), // the same message twice in one batch
		record("m4", objectBody("elsewhere/x.json")),
		record("m5", localaws.SNSWrap(objectBody("data/3.json"), "arn:aws:sns:us-east-1:1:t")),
	}}
	resp, err := h.Handle(withDeadline(t, 30*time.Second), ev)
	if err != nil {
		t.Fatal(err)
	}
	if f := failures(resp); len(f) != 0 || resp.BatchItemFailures == nil {
		t.Fatalf("batchItemFailures = %v (nil: %v), want an empty list", f, resp.BatchItemFailures == nil)
	}
	want := map[string]int{"s3://b/data/1.json": 1, "s3://b/data/2.json": 1, "s3://b/data/3.json": 1}
	if got := c.loaded(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("loaded %v, want %v", got, want)
	}
	if c.copies != 1 {
		t.Errorf("%d COPYs, want 1: one table's objects share a manifest", c.copies)
	}
}

func TestHandlePoison(t *testing.T) {
	const body = "\x1b[31mnot an event\x1b[0m"
	for _, policy := range []PoisonPolicy{PoisonDrop, PoisonRedrive} {
		t.Run(string(policy), func(t *testing.T) {
			c := newFakeCopier()
			h, logs := newHandler(t, c, Options{Poison: policy})
			ev := events.SQSEvent{Records: []events.SQSMessage{
				record("good", objectBody("data/1.json")),
				record("bad", body),
				record("empty-key", `{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"size":1}}}]}`),
			}}
			resp, err := h.Handle(withDeadline(t, 30*time.Second), ev)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			if policy == PoisonRedrive {
				want = []string{"bad", "empty-key"}
			}
			if got := failures(resp); !slices.Equal(got, want) {
				t.Fatalf("batchItemFailures = %v, want %v", got, want)
			}
			if c.loaded()["s3://b/data/1.json"] != 1 {
				t.Fatalf("the good record's object was not loaded: %v", c.loaded())
			}
			if !strings.Contains(logs.String(), `"body":"\u001b[31mnot an event\u001b[0m"`) {
				t.Fatalf("the poison body is not logged whole")
			}
		})
	}
}

func TestHandleOutageReturnsEveryRecordBeforeTheDeadline(t *testing.T) {
	c := newFakeCopier()
	c.setFail(func(context.Context, fsm.Batch) error { return errors.New("connection refused") })
	h, _ := newHandler(t, c, Options{Poison: PoisonDrop})
	ev := events.SQSEvent{Records: []events.SQSMessage{
		record("m1", objectBody("data/1.json")),
		record("m2", objectBody("data/2.json")),
		record("p", "garbage"),
		record("m3", localaws.TestEventBody("b")),
	}}
	const timeout = 3 * time.Second
	start := time.Now()
	resp, err := h.Handle(withDeadline(t, timeout), ev)
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if took >= timeout {
		t.Fatalf("Handle took %s, past its %s deadline", took, timeout)
	}
	if got := failures(resp); !slices.Equal(got, []string{"m1", "m2"}) {
		t.Fatalf("batchItemFailures = %v, want [m1 m2]", got)
	}
	if c.copies < 2 {
		t.Errorf("%d COPY attempts: the held endpoint was not probed during the invocation", c.copies)
	}

	// The outage ends; Lambda delivers the records again.
	c.setFail(nil)
	resp, err = h.Handle(withDeadline(t, timeout), events.SQSEvent{Records: ev.Records[:2]})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("after the outage: %v, %v", failures(resp), err)
	}
	want := map[string]int{"s3://b/data/1.json": 1, "s3://b/data/2.json": 1}
	if got := c.loaded(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("loaded %v, want %v", got, want)
	}
}

func TestHandleBadObjectGoesBackAlone(t *testing.T) {
	c := newFakeCopier()
	c.setFail(func(_ context.Context, b fsm.Batch) error {
		for _, j := range b.Jobs {
			if j.Key == "data/bad.json" {
				return fsm.BadObject(errors.New("Load into table 't' failed. Check 'stl_load_errors' system table for details."))
			}
		}
		return nil
	})
	h, _ := newHandler(t, c, Options{})
	ev := events.SQSEvent{Records: []events.SQSMessage{
		record("m1", objectBody("data/1.json")),
		record("m2", objectBody("data/2.json", "data/bad.json")),
		record("m3", objectBody("data/3.json")),
	}}
	resp, err := h.Handle(withDeadline(t, 30*time.Second), ev)
	if err != nil {
		t.Fatal(err)
	}
	if got := failures(resp); !slices.Equal(got, []string{"m2"}) {
		t.Fatalf("batchItemFailures = %v, want [m2]: its object is not loaded", got)
	}
	want := map[string]int{"s3://b/data/1.json": 1, "s3://b/data/2.json": 1, "s3://b/data/3.json": 1}
	if got := c.loaded(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("loaded %v, want %v", got, want)
	}
}

func TestHandleCancelsAHungCopyInTime(t *testing.T) {
	c := newFakeCopier()
	c.setFail(func(ctx context.Context, _ fsm.Batch) error { <-ctx.Done(); return ctx.Err() })
	h, _ := newHandler(t, c, Options{})
	const timeout = 2 * time.Second
	start := time.Now()
	resp, err := h.Handle(withDeadline(t, timeout), events.SQSEvent{Records: []events.SQSMessage{record("m1", objectBody("data/1.json"))}})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took >= timeout {
		t.Fatalf("Handle took %s, past its %s deadline", took, timeout)
	}
	if got := failures(resp); !slices.Equal(got, []string{"m1"}) {
		t.Fatalf("batchItemFailures = %v, want [m1]", got)
	}
}

func TestHandleRefusesRecordWithoutID(t *testing.T) {
	h, _ := newHandler(t, newFakeCopier(), Options{})
	_, err := h.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{record("", "x")}})
	if !errors.Is(err, ErrNoMessageID) {
		t.Fatalf("err = %v, want ErrNoMessageID", err)
	}
}

func TestHandleEmptyEvent(t *testing.T) {
	h, _ := newHandler(t, newFakeCopier(), Options{})
	resp, err := h.Handle(context.Background(), events.SQSEvent{})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("%v, %v", resp, err)
	}
}

// Runtimes with more than one invocation per environment call Handle
// concurrently; each has its own journal and engine.
func TestHandleConcurrentInvocations(t *testing.T) {
	c := newFakeCopier()
	h, _ := newHandler(t, c, Options{})
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev := events.SQSEvent{Records: []events.SQSMessage{
				record(fmt.Sprintf("a%d", i), objectBody(fmt.Sprintf("data/%d.json", i))),
				record(fmt.Sprintf("b%d", i), objectBody("data/shared.json")),
			}}
			resp, err := h.Handle(withDeadline(t, 30*time.Second), ev)
			if err == nil && len(resp.BatchItemFailures) > 0 {
				err = fmt.Errorf("failures %v", failures(resp))
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for uri, n := range c.loaded() {
		if n != 1 {
			t.Errorf("%s loaded %d times", uri, n)
		}
	}
	if len(c.loaded()) != 5 {
		t.Errorf("loaded %v, want 5 objects", c.loaded())
	}
}
