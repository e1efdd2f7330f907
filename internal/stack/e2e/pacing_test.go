package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/rinhq/rin/internal/stack"
)

// TestBurstLoadsWhenTheQueueRunsDry: a burst that is not a full batch loads
// once the queue has run dry, not when max_age (10 minutes here) or a long
// poll (20 seconds) runs out. Every receive of the burst comes back full
// (100 messages, 10 at a time), so no short receive says the queue is
// empty before a long poll on it expires; what says it is that every
// receiver has been waiting in its long poll (fsm/pace.go). Against goaws,
// whose long polls return as soon as a message is there, as SQS's do.
func TestBurstLoadsWhenTheQueueRunsDry(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: skipped with -short (make test-short); make test runs it")
	}
	e := newEnv(t)
	e.table("t")
	const n = 100
	var evs []stack.ObjectEvent
	for i := range n {
		key := fmt.Sprintf("burst/%03d.json", i)
		evs = append(evs, e.put(key, object(key, 10)))
	}
	e.sendEvents(evs)
	copies := e.st.Redshift().Stats().Copies

	// max_files 150: the burst's 100 are over half a batch, so worth a COPY
	// of their own once nothing joins them, but not a full batch.
	cfg := e.writeConfig("config.yaml", "  - redshift: {table: t}\n    s3: {key_prefix: burst/}\n",
		"batch:\n  max_files: 150\n  max_age: 10m\nreceive:\n  wait_time: 20s\n  visibility_timeout: 60s\n")
	daemon := e.start("-config", cfg)
	defer daemon.stop(t)
	// Well under the 20 s a long poll on the emptied queue would take to
	// come back empty; the margin is for a slow machine, not a measure.
	e.waitFor(10*time.Second, "the burst to load", func() bool { return len(e.rowsBySource("t")) == n })
	e.waitFor(10*time.Second, "the burst's messages to be deleted", e.queueEmpty)
	if got := e.st.Redshift().Stats().Copies - copies; got != 1 {
		t.Errorf("%d COPYs for a burst of %d, want one", got, n)
	}
	for key, rows := range e.rowsBySource("t") {
		if rows != 10 {
			t.Errorf("%s: %d rows, want 10 (loaded once)", key, rows)
		}
	}
}
