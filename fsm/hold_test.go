package fsm

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rinhq/rin/journal"
)

// A table fault (missing table) holds that table only: its jobs stay
// pending, never failed, its message is kept, the other table loads, and
// once the table exists the held jobs load on their own, without a requeue.
//
// In a synctest bubble, so that "held for 300 ms" is 300 ms of the
// engine's time whatever the machine's load, and the probes' times can be
// checked against the backoff schedule.
func TestTableFaultHoldsOnlyThatTable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		missing := true
		var tries []time.Time
		c := &fakeCopier{fail: func(b Batch) error {
			mu.Lock()
			defer mu.Unlock()
			if b.Dest.Table == "tab" && missing {
				tries = append(tries, time.Now())
				return WithScope(ScopeTable, errors.New(`relation "sch.tab" does not exist`))
			}
			return nil
		}}
		h := start(t, c, Options{Retry: RetryOptions{MaxAttempts: 1}})
		h.q.send("held", event("re/sch/tab/1", "re/sch/tab/2", "re/sch/tab/3"))
		for i := range 20 {
			h.q.send(fmt.Sprint("other", i), event(fmt.Sprintf("foo/%d", i)))
		}
		h.waitFor("the other table loaded", func() bool { return h.states()[journal.Acked] == 20 })
		time.Sleep(300 * time.Millisecond)
		if s := h.states(); s[journal.Failed] != 0 || s[journal.Received]+s[journal.Copying] != 3 {
			t.Fatalf("states %v; want the 3 held jobs received (or one of them probing), none failed", s)
		}
		if h.q.deletions("held") != 0 {
			t.Fatal("the held jobs' message was deleted")
		}
		holds := h.engine.Holds()
		if len(holds) != 1 || holds[0].Scope != "table" || !strings.HasSuffix(holds[0].Name, "/sch.tab") || holds[0].LastError == "" {
			t.Fatalf("holds %+v; want the table sch.tab", holds)
		}
		mu.Lock()
		// 300+ ms held, probes backing off 10 ms → 50 ms: a few probes, not one
		// COPY per job per retry, each on the backoff schedule.
		if len(tries) > 15 {
			t.Errorf("%d COPY attempts into the missing table", len(tries))
		}
		checkProbes(t, tries, time.Now())
		missing = false
		mu.Unlock()
		h.waitFor("held jobs loaded after the table appeared", func() bool { return h.states()[journal.Acked] == 23 })
		if len(h.engine.Holds()) != 0 {
			t.Fatalf("still held: %+v", h.engine.Holds())
		}
	})
}

// An environment fault never bisects: the batch that hits it is not split
// and no job is parked, however many there are; after the fault the backlog
// loads in full batches again. In a synctest bubble, as above.
func TestBucketFaultNeverBisects(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		denied := true
		var sizes []int
		var at []time.Time
		c := &fakeCopier{fail: func(b Batch) error {
			mu.Lock()
			defer mu.Unlock()
			if denied {
				sizes = append(sizes, len(b.Jobs))
				at = append(at, time.Now())
				return WithScope(ScopeBucket, errors.New("Problem reading manifest file - S3ServiceException:Access Denied,Status 403,Error AccessDenied,Rid 1,ExtRid 2,CanRetry 1"))
			}
			return nil
		}}
		h := start(t, c, Options{Retry: RetryOptions{MaxAttempts: 1}, Batch: BatchOptions{MaxAge: 200 * time.Millisecond}})
		for i := range 50 {
			h.q.send(fmt.Sprint("m", i), event(fmt.Sprintf("foo/%d", i)))
		}
		h.waitFor("the bucket held", func() bool { return len(h.engine.Holds()) == 1 })
		time.Sleep(300 * time.Millisecond)
		mu.Lock()
		got := append([]int(nil), sizes...)
		checkProbes(t, at, time.Now())
		denied = false
		mu.Unlock()
		for i, n := range got {
			if i > 0 && n != 1 {
				t.Errorf("attempt %d during the fault carried %d jobs; only one-job probes may follow the first failure (%v)", i, n, got)
			}
		}
		if got[0] <= 1 {
			t.Errorf("the first batch carried %d jobs; want a full batch (%v)", got[0], got)
		}
		h.waitFor("all loaded", func() bool { return h.states()[journal.Acked] == 50 })
		if s := h.states(); s[journal.Failed] != 0 {
			t.Fatalf("%d jobs failed for an environment fault", s[journal.Failed])
		}
		if _, batches := c.loads(); batches > 10 {
			t.Errorf("%d COPYs after the fault healed; the backlog should load in full batches", batches)
		}
	})
}

// A serialization conflict on one table retries that table's statement;
// the other table's loads are not slowed or held.
func TestConflictOnOneTableDoesNotHoldAnother(t *testing.T) {
	var mu sync.Mutex
	conflicts := 0
	c := &fakeCopier{fail: func(b Batch) error {
		mu.Lock()
		defer mu.Unlock()
		if b.Dest.Table == "tab" && conflicts < 3 {
			conflicts++
			return WithScope(ScopeStatement, errors.New("1023: Serializable isolation violation on table - 100, transactions forming the cycle are: 1, 2 (pid:3)"))
		}
		return nil
	}}
	h := start(t, c, Options{Retry: RetryOptions{MaxAttempts: 1}})
	h.q.send("t", event("re/sch/tab/1"))
	h.waitFor("first conflict", func() bool { mu.Lock(); defer mu.Unlock(); return conflicts > 0 })
	for i := range 10 {
		h.q.send(fmt.Sprint("o", i), event(fmt.Sprintf("foo/%d", i)))
	}
	h.waitFor("all loaded", func() bool { return h.states()[journal.Acked] == 11 })
	if len(h.engine.Holds()) != 0 {
		t.Fatalf("a statement fault held a scope: %+v", h.engine.Holds())
	}
	if s := h.states(); s[journal.Failed] != 0 {
		t.Fatalf("%d failed", s[journal.Failed])
	}
}

// The holds' stage logic: a probe that fails at a later stage proves the
// earlier one healed; one that fails earlier leaves it held; concurrent
// failures of an open scope do not grow its backoff.
func TestHoldStages(t *testing.T) {
	h := newHolds(RetryOptions{InitialInterval: time.Second, MaxInterval: time.Minute, Multiplier: 2})
	d := Destination{Endpoint: "e", Schema: "s", Table: "t", Bucket: "b"}
	other := Destination{Endpoint: "e", Schema: "s", Table: "u", Bucket: "b"}
	now := time.Unix(1000, 0)
	boom := errors.New("boom")

	if _, _, opened := h.failed(d, ScopeEndpoint, nil, boom, now); !opened {
		t.Fatal("endpoint not opened")
	}
	// A second in-flight batch failing the same way does not move the backoff.
	probeAt := h.breakers[holdKeyOf(ScopeEndpoint, d)].probeAt
	if _, _, opened := h.failed(other, ScopeEndpoint, nil, boom, now); opened || h.breakers[holdKeyOf(ScopeEndpoint, d)].probeAt != probeAt {
		t.Fatal("a concurrent failure moved the endpoint's backoff")
	}
	if ok, _, until := h.gate(other, now); ok || !until.Equal(probeAt) {
		t.Fatalf("other table may start during the endpoint hold (until %v)", until)
	}
	later := probeAt.Add(time.Millisecond)
	ok, probe, _ := h.gate(d, later)
	if !ok || probe == nil || probe.scope != ScopeEndpoint {
		t.Fatalf("no endpoint probe: %v %v", ok, probe)
	}
	if ok, _, _ := h.gate(other, later); ok {
		t.Fatal("two probes at once")
	}
	// The probe reaches the table and fails there: the endpoint is fine.
	h.failed(d, ScopeTable, probe, boom, later)
	if h.held(holdKeyOf(ScopeEndpoint, d)) {
		t.Fatal("endpoint still held after a probe passed it")
	}
	if ok, probe, _ := h.gate(other, later); !ok || probe != nil {
		t.Fatalf("the other table is held too: %v %v", ok, probe)
	}
	if ok, _, _ := h.gate(d, later); ok {
		t.Fatal("the missing table is not held")
	}
	if hs := h.list(); len(hs) != 1 || hs[0].Scope != "table" || hs[0].Name != "e/s.t" {
		t.Fatalf("holds %+v", hs)
	}
	// A success closes everything on the path.
	h.succeeded(d)
	if len(h.list()) != 0 {
		t.Fatalf("holds after success: %+v", h.list())
	}
}
