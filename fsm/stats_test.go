package fsm

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/rinhq/rin/journal"
)

// Copied jobs, rows, failures and load latency are counted per target,
// and add up to the totals.
func TestStatsPerTarget(t *testing.T) {
	c := &fakeCopier{fail: func(b Batch) error {
		for _, j := range b.Jobs {
			if j.Key == "foo/bad" {
				return BadObject(errors.New("invalid input syntax"))
			}
		}
		return nil
	}}
	h := start(t, c, Options{Batch: BatchOptions{MaxFiles: 100, MaxAge: 50 * time.Millisecond}, Retry: RetryOptions{MaxAttempts: 1}})
	keys := []string{"foo/bad", "re/sch/tab/1", "re/sch/tab/2"}
	for k := 0; k < 4; k++ {
		keys = append(keys, fmt.Sprintf("foo/good-%d", k))
	}
	h.q.send("m1", event(keys...))
	h.waitFor("6 acked, 1 failed", func() bool {
		s := h.states()
		return s[journal.Acked] == 6 && s[journal.Failed] == 1 && h.engine.Stats().Acked == 6
	})
	s := h.engine.Stats()
	foo, re := s.Targets["targets[1]"], s.Targets["targets[2]"]
	if foo.Copied != 4 || foo.Failed != 1 || foo.Rows != 4 || re.Copied != 2 || re.Rows != 2 || re.Failed != 0 {
		t.Fatalf("per target: foo %+v, re %+v", foo, re)
	}
	if s.Copied != foo.Copied+re.Copied || s.Rows != foo.Rows+re.Rows || s.Failed != foo.Failed+re.Failed {
		t.Fatalf("totals %d copied, %d rows, %d failed do not add up: %+v", s.Copied, s.Rows, s.Failed, s.Targets)
	}
	// Latency is counted once per acked job (the test events carry a
	// fixed event time, so its value says nothing here).
	if foo.Latency.Count != 4 || re.Latency.Count != 2 || foo.Latency.Sum == 0 {
		t.Fatalf("latency: foo %+v, re %+v", foo.Latency, re.Latency)
	}
	if n := s.CopyDuration.Count; n != uint64(s.Copies) || n == 0 {
		t.Fatalf("COPY durations counted %d, COPYs %d", n, s.Copies)
	}
	// A snapshot is a copy: later counting does not change it.
	before := s.Targets["targets[1]"].Latency.Counts[len(LatencyBuckets())]
	h.engine.count(func(st *Stats) { st.failed("targets[1]") })
	if s.Targets["targets[1]"].Failed != 1 || s.Targets["targets[1]"].Latency.Counts[len(LatencyBuckets())] != before {
		t.Fatal("the snapshot changed")
	}
}

func TestHistogramCumulative(t *testing.T) {
	h := newHistogram([]float64{1, 5, 10})
	for _, v := range []float64{0.5, 1, 3, 7, 100} {
		h.observe(v)
	}
	got := h.Cumulative()
	if got[1] != 2 || got[5] != 3 || got[10] != 4 || h.Count != 5 || h.Sum != 111.5 {
		t.Fatalf("cumulative %v, count %d, sum %g", got, h.Count, h.Sum)
	}
}
