package fsm

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rinhq/rin/sqsx"
)

// sharedQueue is a queue that another rin also reads: it reports, beside
// what this engine received and has not deleted, others messages in flight
// elsewhere. Its receives long-poll as SQS's do.
type sharedQueue struct {
	*fakeQueue
	mu       sync.Mutex
	others   int
	receives int
	received int
	// deletePause, if set, is how long each DeleteMessageBatch (10
	// handles) takes: the queue's depth falls while a Delete is under way.
	deletePause time.Duration
}

func (q *sharedQueue) Delete(ctx context.Context, handles []string) (map[string]error, error) {
	for start := 0; start < len(handles); start += 10 {
		if q.deletePause > 0 && !sleep(ctx, q.deletePause) {
			return nil, ctx.Err()
		}
		q.fakeQueue.Delete(ctx, handles[start:min(start+10, len(handles))])
	}
	return nil, nil
}

func (q *sharedQueue) Receive(ctx context.Context, max int32, wait, vis time.Duration) ([]sqsx.Message, error) {
	q.mu.Lock()
	q.receives++
	q.mu.Unlock()
	q.fakeQueue.mu.Lock()
	empty := len(q.pending) == 0
	q.fakeQueue.mu.Unlock()
	if empty {
		sleep(ctx, wait) // a long poll on an empty queue lasts its wait
		return nil, nil
	}
	msgs, err := q.fakeQueue.Receive(ctx, max, wait, vis)
	q.mu.Lock()
	q.received += len(msgs)
	q.mu.Unlock()
	return msgs, err
}

func (q *sharedQueue) ApproximateCounts(ctx context.Context) (visible, inFlight int, err error) {
	q.fakeQueue.mu.Lock()
	visible = len(q.pending)
	deleted := 0
	for _, n := range q.deleted {
		deleted += n
	}
	q.fakeQueue.mu.Unlock()
	q.mu.Lock()
	defer q.mu.Unlock()
	return visible, q.received - deleted + q.others, nil
}

func (q *sharedQueue) set(others int) (receives int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.others = others
	return q.receives
}

// TestBatchModeExitsSoonAfterTheQueueEmpties: in batch mode, while another
// rin still holds messages, the receivers poll on, backing off while the
// queue's depth stays put (a dead rin's messages may stay in flight for
// hours), and once the depth moves again (the other rin deleting) rin exits
// within a fraction of a second of the queue's last delete, not at the end
// of a long poll.
func TestBatchModeExitsSoonAfterTheQueueEmpties(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := &sharedQueue{fakeQueue: newFakeQueue(), others: 5}
		q.send("m1", event("foo/a.json"))
		c := &fakeCopier{}
		h := startWithQueue(t, c, q, Options{BatchMode: true, Receive: ReceiveOptions{WaitTime: time.Second}})

		time.Sleep(time.Second)
		if q.deletions("m1") != 1 {
			t.Fatalf("m1 deleted %d times after 1 s, want once", q.deletions("m1"))
		}
		before := q.set(5)
		time.Sleep(60 * time.Second) // the other rin's messages stay in flight
		polls := q.set(5) - before
		// Each receiver pauses an eighth of the quiet time so far, 100 ms to
		// 1 s: 8 polls in the first 0.8 s, 8·ln 10 ≈ 18 until 8 s, then one
		// a second, about 78 in all. Polling every 100 ms would be 1,200.
		if polls > 170 {
			t.Fatalf("%d receives in 60 s of an unchanging queue, want about 160 (two receivers, one poll a second once quiet for 8 s)", polls)
		}
		select {
		case err := <-h.done:
			t.Fatalf("rin stopped while the queue still held another rin's messages: %v", err)
		default:
		}

		// The other rin deletes its messages, one every 100 ms.
		for n := 4; n >= 0; n-- {
			time.Sleep(100 * time.Millisecond)
			q.set(n)
		}
		stopped := time.Now()
		// The depth moved, so the receivers poll again within 100 ms.
		h.stopsWithin(stopped, 250*time.Millisecond, "the queue emptied")
	})
}

// TestBatchModeSeesAnotherRinsDeletesSoon: another rin holds messages
// through a 2 s COPY, with the queue's depth unchanged, then deletes them
// all at once. rin polls an eighth of the quiet time apart, so it exits
// within about 250 ms, where doubling pauses (100, 200, 400, 800 ms) saw
// the deletes up to 800 ms late.
func TestBatchModeSeesAnotherRinsDeletesSoon(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := &sharedQueue{fakeQueue: newFakeQueue(), others: 5}
		h := startDraining(t, q)
		time.Sleep(1300 * time.Millisecond) // the other rin's first COPY
		q.set(4)                            // its deletes move the depth
		time.Sleep(700 * time.Millisecond)
		q.set(3)
		time.Sleep(2 * time.Second)
		q.set(0)
		deleted := time.Now()
		h.stopsWithin(deleted, 260*time.Millisecond, "the other rin's deletes, 2 s into a quiet queue")
	})
}

// waitStop waits for the engine to stop by itself (batch mode's end),
// failing the test with why if it does not within 10 s.
func (h *harness) waitStop(why string) {
	h.t.Helper()
	select {
	case err := <-h.done:
		h.done <- err // for the harness's cleanup
		if err != nil {
			h.t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		h.t.Fatal(why)
	}
}

func TestDrainPause(t *testing.T) {
	for _, c := range []struct{ quiet, longPoll, want time.Duration }{
		{0, time.Second, 100 * time.Millisecond},
		{800 * time.Millisecond, time.Second, 100 * time.Millisecond},
		{2 * time.Second, time.Second, 250 * time.Millisecond},
		{8 * time.Second, time.Second, time.Second},
		{time.Hour, time.Second, time.Second},
		{time.Hour, 0, 100 * time.Millisecond}, // a zero long poll still pauses
	} {
		if got := drainPause(c.quiet, c.longPoll); got != c.want {
			t.Errorf("drainPause(%s, %s) = %s, want %s", c.quiet, c.longPoll, got, c.want)
		}
	}
}

// TestBatchModeExitsWhenItsLastMessageIsDeleted: while a long COPY runs and
// another rin holds a message, the receivers back off to a poll a second;
// once the COPY ends (and the other rin is done), the engine's own deletes
// wake them and Run at once, so rin exits within the ack pass's gather, not
// at the next poll or tick.
func TestBatchModeExitsWhenItsLastMessageIsDeleted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := &sharedQueue{fakeQueue: newFakeQueue(), others: 1} // another rin's message in flight too
		q.send("m1", event("foo/a.json"))
		release := make(chan struct{})
		c := &fakeCopier{fail: func(Batch) error { <-release; return nil }}
		h := startWithQueue(t, c, q, Options{BatchMode: true, Receive: ReceiveOptions{WaitTime: time.Second}})

		time.Sleep(30*time.Second + 300*time.Millisecond) // a long COPY; the polls back off meanwhile
		q.set(0)                                          // the other rin is done as this COPY ends
		close(release)
		released := time.Now()
		h.waitStop("rin did not stop after its last message was deleted")
		if q.deletions("m1") != 1 {
			t.Fatalf("m1 deleted %d times, want once", q.deletions("m1"))
		}
		if took := time.Since(released); took > 100*time.Millisecond {
			t.Fatalf("rin stopped %s after its COPY ended, want within 100ms (the ack pass's 50 ms gather)", took)
		}
	})
}

// TestBatchModeFollowsAnotherRinsDeletes: after a quiet spell another rin
// deletes what it holds, 300 messages ten at a time over 150 ms. rin polls
// when, at the pace the depth falls, the queue will be empty, so it exits
// within a few milliseconds of the last delete; pausing 100 ms between
// polls, as while the queue stays put, it saw the end up to 100 ms late.
func TestBatchModeFollowsAnotherRinsDeletes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := &sharedQueue{fakeQueue: newFakeQueue(), others: 300}
		h := startDraining(t, q)
		time.Sleep(1300*time.Millisecond + 7*time.Millisecond) // the other rin's COPY
		for n := 290; n >= 0; n -= 10 {
			time.Sleep(5 * time.Millisecond)
			q.set(n)
		}
		deleted := time.Now()
		h.stopsWithin(deleted, 25*time.Millisecond, "the other rin's last delete")
	})
}

func TestDrainWatch(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	t0 := time.Unix(0, 0)
	var w drainWatch
	steps := []struct {
		at                    time.Duration
		depth, held, receives int
		want                  time.Duration
	}{
		{0, 1000, 0, 0, ms(100)},            // first read: the quiet pause
		{ms(100), 1000, 0, 0, ms(100)},      // unchanged for 100 ms
		{ms(2000), 1000, 0, 0, ms(250)},     // unchanged for 2 s: an eighth
		{ms(2200), 600, 0, 0, ms(100)},      // falling 2/ms, 300 ms left: the quiet pause is sooner
		{ms(2250), 400, 0, 0, ms(100)},      // 4/ms, 100 ms left
		{ms(2300), 200, 100, 0, ms(25)},     // 4/ms, 100 of the 200 are others': 25 ms
		{ms(2325), 100, 100, 0, ms(10)},     // nothing of others' left to wait for: the least pause
		{ms(2335), 100, 100, 0, ms(100)},    // unchanged: the quiet pause again
		{ms(12000), 100, 0, 0, time.Second}, // quiet for 9.7 s: capped at the long poll
		{ms(12100), 100, 0, 1, ms(100)},     // a receive brought messages: quiet afresh
		{ms(12150), 90, 0, 1, ms(100)},      // and no pace from before it: 90 left at 0.2/ms is later
		{ms(12160), 40, 0, 1, ms(10)},       // 5/ms: 8 ms left, the least pause
	}
	for i, s := range steps {
		if got := w.next(s.depth, s.held, s.receives, t0.Add(s.at), time.Second); got != s.want {
			t.Errorf("step %d (depth %d, held %d, receives %d at %s): pause %s, want %s", i, s.depth, s.held, s.receives, s.at, got, s.want)
		}
	}
}

// TestBatchModeDrainCountsQuietAfresh: after 10 s of another rin's
// messages standing still, the receivers poll once a second. A message of
// this rin's arrives and is loaded; the depth is back where it was. The
// quiet spell starts again there, for both receivers (a receive brought
// messages), so when the other rin deletes 1.5 s later (after the long poll
// that followed the message), rin sees it within an eighth of those 1.5 s,
// not a second late.
func TestBatchModeDrainCountsQuietAfresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := &sharedQueue{fakeQueue: newFakeQueue(), others: 5}
		h := startDraining(t, q)
		time.Sleep(10 * time.Second)
		q.send("m1", event("foo/a.json"))
		for q.deletions("m1") == 0 {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(1500 * time.Millisecond)
		q.set(0)
		deleted := time.Now()
		h.stopsWithin(deleted, 300*time.Millisecond, "the other rin's deletes")
	})
}

// TestBatchModeWaitsForOthersWhileDeleting: another rin (or a dead one)
// holds 5 messages in flight while this rin deletes the 200 it loaded, 10
// per request, 2 s in all (longer than a long poll). Midway, the queue's
// depth is what this rin has yet to delete plus the others' 5, less than
// the 200 it held when the deletes began: the messages under deletion must
// not count as this rin's, or the others' 5 hide behind them and batch
// mode exits with them in flight.
func TestBatchModeWaitsForOthersWhileDeleting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := &sharedQueue{fakeQueue: newFakeQueue(), others: 5, deletePause: 100 * time.Millisecond}
		for i := range 200 {
			q.send(fmt.Sprintf("m%d", i), event(fmt.Sprintf("foo/%03d.json", i)))
		}
		h := startDraining(t, q)
		time.Sleep(5 * time.Second)
		for i := range 200 {
			if n := q.deletions(fmt.Sprintf("m%d", i)); n != 1 {
				t.Fatalf("m%d deleted %d times, want once", i, n)
			}
		}
		select {
		case err := <-h.done:
			h.done <- err
			t.Fatalf("rin stopped (%v) while another rin's 5 messages were still in flight", err)
		default:
		}
		q.set(0)
		h.waitStop("rin did not stop after the queue emptied")
	})
}

// startDraining starts an engine in batch mode, with a long poll of 1 s,
// on q.
func startDraining(t *testing.T, q Queue) *harness {
	return startWithQueue(t, &fakeCopier{}, q, Options{BatchMode: true, Receive: ReceiveOptions{WaitTime: time.Second}})
}

// stopsWithin waits for the engine to stop by itself (waitStop) and fails
// the test if that took more than limit after since, the moment of what.
func (h *harness) stopsWithin(since time.Time, limit time.Duration, what string) {
	h.t.Helper()
	h.waitStop("rin did not stop after " + what)
	if took := time.Since(since); took > limit {
		h.t.Fatalf("rin stopped %s after %s, want within %s", took, what, limit)
	}
}
