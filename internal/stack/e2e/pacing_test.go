package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rinhq/rin/journal"
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
	e.sendEvents(e.putObjects("burst/", n, 10))
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

// TestBatchModeWaitsForAnotherRin: a rin -batch started while another rin
// holds every message (its COPY is slow) finds the queue empty of visible
// messages, but does not exit while they are in flight: it polls on, and
// exits once the other rin has deleted them, having loaded nothing itself.
// This is the end of batch mode that polls without waiting (fsm/intake.go)
// against goaws, which counts in-flight messages as visible too.
func TestBatchModeWaitsForAnotherRin(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: skipped with -short (make test-short); make test runs it")
	}
	e := newEnv(t)
	e.table("t")
	const n = 40
	e.sendEvents(e.putObjects("held/", n, 10))
	sim := e.st.Redshift()
	e.copyLatency(3 * time.Second)
	copies := sim.Stats().Copies

	targets := "  - redshift: {table: t}\n    s3: {key_prefix: held/}\n"
	daemon := e.start("-config", e.writeConfig("config.yaml", targets, ""))
	defer daemon.stop(t)
	e.waitFor(30*time.Second, "the daemon's COPY of every object", func() bool {
		if _, err := os.Stat(filepath.Join(e.dir, "rin.sock")); err != nil {
			return false // not listening yet
		}
		return len(e.liveJobs()[journal.Copying]) == n
	})

	body, err := os.ReadFile(filepath.Join(e.dir, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	second := filepath.Join(e.dir, "second.yaml")
	if err := os.WriteFile(second, []byte(strings.Replace(string(body), "rin.journal.db", "second.journal.db", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out := e.run(time.Minute, "-config", second, "-batch")
	if code != 0 {
		t.Fatalf("rin -batch exited %d:\n%s", code, out)
	}
	if !e.queueEmpty() {
		t.Fatal("rin -batch exited while the other rin's messages were still in flight")
	}
	if got := sim.Stats().Copies - copies; got != 1 {
		t.Errorf("%d COPYs, want the daemon's one", got)
	}
	if !strings.Contains(out, "copied=0") {
		t.Errorf("rin -batch loaded something, want nothing (it held no message):\n%s", tail([]byte(out), 2000))
	}
	for key, rows := range e.rowsBySource("t") {
		if rows != 10 {
			t.Errorf("%s: %d rows, want 10", key, rows)
		}
	}
}
