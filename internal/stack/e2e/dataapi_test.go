package e2e

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rinhq/rin/internal/stack"
	"github.com/rinhq/rin/internal/stack/dataapi"
)

// TestDataAPIDriver runs rin with driver: redshift-data against the Data
// API stand-in (reached through AWS_ENDPOINT_URL_REDSHIFT_DATA, as a real
// deployment would be configured) and checks that each object loads exactly
// once: duplicate events are deduplicated by the journal, and with the
// journal gone the Redshift ledger still refuses a second load.
func TestDataAPIDriver(t *testing.T) {
	if testing.Short() {
		t.Skip("slow end-to-end test: skipped with -short (make test-short); make test runs it")
	}
	e := newEnv(t)
	e.table("dt")
	srv, err := dataapi.Start(dataapi.Config{Backend: e.st.RedshiftDSN()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cfg := e.writeConfig("config.yaml", "  - redshift: {driver: redshift-data, cluster: x, table: dt}\n    s3: {key_prefix: d/}\n", "")

	keys := map[string]int{"d/1.json": 3, "d/10.json": 2, "d/it's; DROP TABLE dt; --.json": 1}
	var events []stack.ObjectEvent
	for k, n := range keys {
		events = append(events, e.put(k, object(k, n)))
	}
	sendAll := func() {
		e.send(stack.S3EventBody(events...))
		e.send(stack.S3EventBody(events[0])) // an SQS/S3 duplicate
	}
	run := func() {
		t.Helper()
		p := e.startEnv([]string{"AWS_ENDPOINT_URL_REDSHIFT_DATA=" + srv.Endpoint()}, "-config", cfg, "-batch", "-debug")
		select {
		case <-p.done:
		case <-time.After(2 * time.Minute):
			p.kill()
			t.Fatal("rin -batch did not finish within 2m")
		}
		if code := p.cmd.ProcessState.ExitCode(); code != 0 {
			out, _ := os.ReadFile(p.log)
			t.Fatalf("rin -batch exited %d:\n%s", code, tail(out, 4000))
		}
	}
	check := func(when string) {
		t.Helper()
		got := e.rowsBySource("dt")
		for k, n := range keys {
			if got[k] != n {
				t.Errorf("%s: %s has %d rows, want %d (all: %v)", when, k, got[k], n, got)
			}
		}
		if len(got) != len(keys) {
			t.Errorf("%s: rows from unexpected objects: %v", when, got)
		}
		if !e.queueEmpty() {
			t.Errorf("%s: queue not empty", when)
		}
	}

	sendAll()
	run()
	check("first run")
	first := srv.Submitted()
	if first == 0 {
		t.Fatal("rin loaded without submitting anything to the Data API")
	}

	// Forget everything rin knows locally and deliver the events again:
	// only the ledger in Redshift stands between them and a second load.
	if err := os.Remove(filepath.Join(e.dir, "rin.journal.db")); err != nil {
		t.Fatal(err)
	}
	sendAll()
	run()
	check("after the journal was lost and the events redelivered")
	if srv.Submitted() == first {
		t.Error("the second run did not consult the Data API")
	}
	e.assertNoSecrets()
}
