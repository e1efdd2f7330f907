package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/internal/stack"
	"github.com/rinhq/rin/journal"
	"github.com/rinhq/rin/redshift"
	"github.com/rinhq/rin/sqsx"
)

// The exactly-once guard of issue 16 against processes, not Copiers: two rin
// processes on one queue load four tables, with the simulator checking
// transactions as Redshift does (serializable, 1023 for one of two that
// conflict) and 1023 injected into two of the tables. Every event is sent
// twice, so both processes see most objects.
func TestTwoProcessesSerializableWithConflicts(t *testing.T) {
	if testing.Short() {
		t.Skip("slow end-to-end test: skipped with -short (make test-short); make test runs it")
	}
	e := newEnv(t)
	sim := e.st.Redshift()
	if !sim.Serializable() {
		t.Fatal("the stack's simulator is not in serializable mode")
	}
	tables := []string{"foo", "bar", "baz", "qux"}
	var targets strings.Builder
	for _, tb := range tables {
		e.table(tb)
		fmt.Fprintf(&targets, "  - redshift: {table: %s}\n    s3: {key_prefix: %s/}\n", tb, tb)
	}
	extra := "ledger:\n  schema: " + e.schema + "\n"
	cfgA := e.writeConfig("a.yaml", targets.String(), extra)
	b, _ := os.ReadFile(cfgA)
	cfgB := filepath.Join(e.dir, "b.yaml")
	if err := os.WriteFile(cfgB, []byte(strings.Replace(string(b), "rin.journal.db", "rin-b.journal.db", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	sim.SerializationConflictsInto(e.schema+".foo", 5)
	sim.SerializationConflictsInto(e.schema+".bar", 5)
	defer sim.ResetFaults()
	aborts := sim.Stats().SerializationAborts

	// Every event twice (in separate messages), so both processes see
	// most objects.
	keys := map[string][]string{}
	var events []stack.ObjectEvent
	for _, tb := range tables {
		for i := range 40 {
			k := fmt.Sprintf("%s/%04d.json", tb, i)
			keys[tb] = append(keys[tb], k)
			events = append(events, e.put(k, object(k, 2)))
		}
	}
	for range 2 {
		for i := 0; i < len(events); i += 10 {
			e.send(stack.S3EventBody(events[i:min(i+10, len(events))]...))
		}
	}
	pa := e.start("-config", cfgA)
	pb := e.start("-config", cfgB)
	for _, tb := range tables {
		e.waitFor(2*time.Minute, tb+" loaded", func() bool { return len(e.rowsBySource(tb)) == 40 })
	}
	e.waitFor(60*time.Second, "queue empty", e.queueEmpty)
	pa.stop(t)
	pb.stop(t)
	for _, tb := range tables {
		e.assertExactlyOnce(tb, keys[tb], 2)
		e.assertLedgerOnce(tb, 40)
	}
	for _, f := range sim.Faults().TableFailures {
		if f.Remaining != 0 {
			t.Errorf("injected conflicts left unused: %+v", f)
		}
	}
	if n := sim.Stats().SerializationAborts - aborts; n != 0 {
		t.Errorf("%d transactions conflicted beyond the injected ones: the guard let loads overlap", n)
	}
	if countLines(e, "retrying the statement") < 10 {
		t.Errorf("%d statement retries logged; want the 10 injected conflicts", countLines(e, "retrying the statement"))
	}
}

// assertLedgerOnce checks that table's ledger holds n rows, one per job.
func (e *env) assertLedgerOnce(table string, n int) {
	e.t.Helper()
	schema, name := redshift.LedgerTable(config.Ledger{Schema: e.schema, Table: config.DefaultLedgerTable}, e.schema, table)
	conn := e.backend()
	defer conn.Close(context.Background())
	var rows, distinct int
	if err := conn.QueryRow(context.Background(), "SELECT count(*), count(DISTINCT job_id) FROM "+pgx.Identifier{schema, name}.Sanitize()).Scan(&rows, &distinct); err != nil {
		e.t.Fatalf("ledger of %s: %v", table, err)
	}
	if rows != n || distinct != n {
		e.t.Errorf("ledger of %s: %d rows, %d distinct; want %d", table, rows, distinct, n)
	}
}

// An object an older rin loaded (its shared ledger, its job id, its
// journal) is not loaded again when its event is redelivered after the
// upgrade; and a config that renames the user changes no job id.
func TestUpgradeRedeliveryNotReloaded(t *testing.T) {
	if testing.Short() {
		t.Skip("slow end-to-end test: skipped with -short (make test-short); make test runs it")
	}
	e := newEnv(t)
	e.table("foo")
	extra := "ledger:\n  schema: " + e.schema + "\n"
	cfgPath := e.writeConfig("config.yaml", fooTarget, extra)
	cfg, err := config.Load(context.Background(), cfgPath)
	if err != nil {
		t.Fatal(err)
	}

	// The older rin's load of foo/old.json: rows in the table, a row in
	// its shared ledger, the job acked in its journal, all under its id.
	ev := e.put("foo/old.json", object("foo/old.json", 3))
	body := stack.S3EventBody(ev)
	recs, err := sqsx.ParseBody(body)
	if err != nil || len(recs) != 1 {
		t.Fatalf("parse %s: %v", body, err)
	}
	rt := cfg.Route(recs[0].Bucket, recs[0].Key)[0]
	old := fsm.JobFor(rt, recs[0])
	old.ID = journal.LegacyJobID(rt.Redshift.Endpoint(), rt.Schema, rt.Table, recs[0].Bucket, recs[0].Key, recs[0].Version())
	if old.ID == fsm.JobFor(rt, recs[0]).ID {
		t.Fatal("the legacy and the new id coincide: the test proves nothing")
	}
	conn := e.backend()
	defer conn.Close(context.Background())
	shared := pgx.Identifier{e.schema, config.DefaultLedgerTable}.Sanitize()
	for _, q := range []string{
		`CREATE TABLE ` + shared + ` (job_id VARCHAR(64) NOT NULL, batch_id VARCHAR(64), target VARCHAR(256), s3_uri VARCHAR(4096),
			object_version VARCHAR(1024), row_count BIGINT, loaded_at TIMESTAMP, skipped_rows BIGINT DEFAULT 0)`,
		`INSERT INTO ` + shared + ` (job_id, batch_id, target, s3_uri, loaded_at) VALUES ('` + old.ID + `', 'old', 'targets[0]', 's3://` + e.bucket + `/foo/old.json', now())`,
		`INSERT INTO ` + pgx.Identifier{e.schema, "foo"}.Sanitize() + ` (src, n) VALUES ('foo/old.json', 0), ('foo/old.json', 1), ('foo/old.json', 2)`,
	} {
		if _, err := conn.Exec(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	j, err := journal.Open(filepath.Join(e.dir, "rin.journal.db"), journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	old.State, old.CopiedAt = journal.Acked, time.Now()
	if err := j.Update(func(tx *journal.Tx) error { return tx.PutJobVia(old) }); err != nil {
		t.Fatal(err)
	}
	j.Close()

	// After the upgrade: the event again, and a new object.
	e.send(body)
	fresh := e.putAndNotify("foo/new.json", 2)
	if code, out := e.run(2*time.Minute, "-config", cfgPath, "-batch"); code != 0 {
		t.Fatalf("rin -batch exited %d:\n%s", code, tail([]byte(out), 3000))
	}
	e.assertRows(e.schema, "foo", map[string]int{"foo/old.json": 3, "foo/new.json": 2})
	if !e.logsContain("already loaded (ledger)") {
		t.Error("the redelivery did not go through the shared ledger")
	}

	// The user renamed in the config: the events again are the same jobs.
	b, _ := os.ReadFile(cfgPath)
	renamed := filepath.Join(e.dir, "renamed.yaml")
	if err := os.WriteFile(renamed, []byte(strings.Replace(string(b), "user: rin", "user: rin_loader", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	e.send(body)
	e.send(stack.S3EventBody(fresh))
	if code, out := e.run(2*time.Minute, "-config", renamed, "-batch"); code != 0 {
		t.Fatalf("rin -batch (renamed user) exited %d:\n%s", code, tail([]byte(out), 3000))
	}
	e.assertRows(e.schema, "foo", map[string]int{"foo/old.json": 3, "foo/new.json": 2})
	e.assertSettled(0)
}
