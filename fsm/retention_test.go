package fsm

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rinhq/rin/sqsx"
)

// visibilityQueue records the handles the heartbeat extends.
type visibilityQueue struct {
	*fakeQueue
	mu       sync.Mutex
	extended map[string]int
}

func (q *visibilityQueue) ChangeVisibility(ctx context.Context, handles []string, t time.Duration) (map[string]error, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, h := range handles {
		q.extended[h]++
	}
	return nil, nil
}

func (q *visibilityQueue) count(h string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.extended[h]
}

// SQS allows 12 hours of invisibility per delivery. A message held past
// that is let go; its redelivery brings a new handle and a new window,
// which the heartbeat extends again. The oldest message's age counts from
// SQS's SentTimestamp, and nears the queue's retention visibly.
//
// In a synctest bubble: the heartbeat's ticks (every 200 ms here) come at
// exact fake times, so the test counts them instead of sleeping past them.
func TestHeartbeatWindowPerDeliveryAndRetention(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		held := &fakeCopier{fail: func(b Batch) error {
			return WithScope(ScopeTable, errors.New(`relation "public.foo" does not exist`))
		}}
		q := &visibilityQueue{fakeQueue: newFakeQueue(), extended: map[string]int{}}
		h := startWithQueue(t, held, q, Options{Receive: ReceiveOptions{Visibility: 600 * time.Millisecond, Retention: 4 * 24 * time.Hour}})
		sent := time.Now().Add(-3*24*time.Hour - time.Hour) // 3 days 1 hour ago: past 75% of 4 days
		q.fakeQueue.mu.Lock()
		q.fakeQueue.seq++
		q.fakeQueue.handles["h1"] = "m1"
		q.fakeQueue.pending = append(q.fakeQueue.pending, sqsx.Message{ID: "m1", ReceiptHandle: "h1", Body: event("foo/1"), SentAt: sent})
		q.fakeQueue.mu.Unlock()
		h.waitFor("first delivery extended", func() bool { return q.count("h1") > 0 })

		st := h.engine.Stats()
		if st.OldestMessageAgeSeconds < (3*24*time.Hour).Seconds() || st.RetentionSeconds != (4*24*time.Hour).Seconds() || !st.RetentionAtRisk() {
			t.Fatalf("oldest %.0fs, retention %.0fs, at risk %v", st.OldestMessageAgeSeconds, st.RetentionSeconds, st.RetentionAtRisk())
		}

		// Within its window, the delivery is extended at every tick: a
		// visibility of 600 ms ticks every 200 ms, five times a second.
		synctest.Wait() // the tick that made the first extension is over
		before := q.count("h1")
		time.Sleep(time.Second)
		synctest.Wait() // the tick that falls on the second's end is over too
		if n := q.count("h1") - before; n != 5 {
			t.Fatalf("%d extensions in a second, want one per 200 ms tick", n)
		}

		// The first delivery's window is almost over: no more extensions, in
		// five ticks.
		h.engine.mu.Lock()
		h.engine.msgs.get("m1").delivered = time.Now().Add(-12 * time.Hour)
		h.engine.mu.Unlock()
		// No time has passed since the last tick's pass ended: none is in
		// flight that could still extend the handle.
		before = q.count("h1")
		time.Sleep(time.Second)
		synctest.Wait()
		if q.count("h1") != before {
			t.Fatal("the heartbeat extended a delivery past its 12-hour window")
		}
		// Redelivered: a new handle starts a new window.
		q.fakeQueue.mu.Lock()
		q.fakeQueue.handles["h2"] = "m1"
		q.fakeQueue.pending = append(q.fakeQueue.pending, sqsx.Message{ID: "m1", ReceiptHandle: "h2", Body: event("foo/1"), SentAt: sent})
		q.fakeQueue.mu.Unlock()
		h.waitFor("redelivery extended", func() bool { return q.count("h2") > 0 })
		if q.count("h1") != before {
			t.Fatal("the old handle was extended after the redelivery")
		}
	})
}
