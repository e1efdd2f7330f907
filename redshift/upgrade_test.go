package redshift

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/internal/stackproc"
	"github.com/rinhq/rin/journal"
)

// An older rin kept every load in one shared ledger table, under the id
// that hashed the whole endpoint string (journal.LegacyJobID). After the
// upgrade nothing it loaded loads again: a redelivered event (new id), a job
// still pending in its journal (old id), or both in one batch.

// legacyLoad records key as loaded by an older rin: its rows in the table
// and a row in the shared ledger, as that rin wrote them.
func (f *fixture) legacyLoad(t *testing.T, ledgerTable, key string, rows int, at time.Time) string {
	t.Helper()
	ctx := context.Background()
	conn := stackproc.Connect(t, f.st)
	shared := pgx.Identifier{f.schema, ledgerTable}.Sanitize()
	id := journal.LegacyJobID(f.ep.Endpoint(), f.schema, "t", f.bucket, key, "")
	for _, q := range []string{
		// The shared ledger's definition in the older rin.
		`CREATE TABLE IF NOT EXISTS ` + shared + ` (job_id VARCHAR(64) NOT NULL, batch_id VARCHAR(64), target VARCHAR(256),
			s3_uri VARCHAR(4096), object_version VARCHAR(1024), row_count BIGINT, loaded_at TIMESTAMP, skipped_rows BIGINT DEFAULT 0)`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.Exec(ctx, `INSERT INTO `+shared+` (job_id, batch_id, target, s3_uri, loaded_at) VALUES ($1, 'old', 'targets[0]', $2, $3)`,
		id, "s3://"+f.bucket+"/"+key, at.UTC().Format("2006-01-02 15:04:05")); err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		if _, err := conn.Exec(ctx, `INSERT INTO `+pgx.Identifier{f.schema, "t"}.Sanitize()+` VALUES ($1, $2)`, key, i); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

func TestUpgradeHonoursSharedLedger(t *testing.T) {
	f := newFixture(t, "pw", nil)
	ctx := context.Background()
	f.job(t, "old/1", 2) // the object itself
	f.legacyLoad(t, "rin_ledger", "old/1", 2, time.Now().Add(-time.Hour))

	// A redelivered event of an object the older rin loaded.
	redelivered := f.job(t, "old/1", 2)
	res, err := f.copier.Copy(ctx, f.batch(redelivered))
	if err != nil || !res.Skipped[redelivered.ID] || f.rows(t) != 2 {
		t.Fatalf("redelivery: skipped %v, %v, %d rows; want skipped and 2 rows", res.Skipped, err, f.rows(t))
	}

	// A job still pending in the older rin's journal (its old id), loaded
	// now; then its event again (new id).
	pending := f.job(t, "old/2", 3)
	pending.ID = journal.LegacyJobID(f.ep.Endpoint(), f.schema, "t", f.bucket, "old/2", "")
	if res, err := f.copier.Copy(ctx, f.batch(pending)); err != nil || res.Rows != 3 {
		t.Fatalf("old pending job: %+v, %v", res, err)
	}
	again := f.job(t, "old/2", 3)
	if res, err := f.copier.Copy(ctx, f.batch(again)); err != nil || !res.Skipped[again.ID] {
		t.Fatalf("its redelivery: skipped %v, %v; want skipped", res.Skipped, err)
	}

	// Both ids of one object in one batch: loaded once.
	oldID, newID := f.job(t, "old/3", 4), f.job(t, "old/3", 4)
	oldID.ID = journal.LegacyJobID(f.ep.Endpoint(), f.schema, "t", f.bucket, "old/3", "")
	res, err = f.copier.Copy(ctx, f.batch(oldID, newID))
	if err != nil || res.Rows != 4 || !res.Skipped[newID.ID] || res.Skipped[oldID.ID] {
		t.Fatalf("both ids in a batch: %+v, %v; want 4 rows, the second skipped", res, err)
	}
	if n := f.rows(t); n != 2+3+4 {
		t.Fatalf("%d rows; want 9 (each object once)", n)
	}

	// The reader sees what the COPY's check sees.
	l, err := LedgerFor(f.copier, f.ep.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	got, err := l.LoadedJobs(ctx, []journal.Job{redelivered, again, newID, f.job(t, "old/4", 1)})
	if err != nil || len(got) != 3 || !got[redelivered.ID] || !got[again.ID] || !got[newID.ID] {
		t.Fatalf("LoadedJobs = %v, %v; want the three loaded", got, err)
	}
	byID, err := l.Loaded(ctx, []string{pending.ID, oldID.ID, redelivered.ID})
	if err != nil || !byID[pending.ID] || !byID[oldID.ID] || byID[redelivered.ID] {
		t.Fatalf("Loaded = %v, %v; want the ids recorded (old/1 is under its legacy id)", byID, err)
	}
}

// The same, through the Data API.
func TestUpgradeHonoursSharedLedgerDataAPI(t *testing.T) {
	f := newDataFixture(t, config.Ledger{})
	f.job(t, "old/1", 2)
	f.legacyLoad(t, "rin_ledger", "old/1", 2, time.Now())
	j := f.job(t, "old/1", 2)
	res, err := f.copier.Copy(t.Context(), f.batch(j))
	if err != nil || !res.Skipped[j.ID] || f.rows(t) != 2 {
		t.Fatalf("redelivery: skipped %v, %v, %d rows; want skipped and 2 rows", res.Skipped, err, f.rows(t))
	}
}

// Rows older than the window are pruned, the rest kept, in a transaction
// of its own under the table's guard: a prune beside a load of the table
// waits for it and neither fails. Once the shared ledger is empty it is no
// longer read.
func TestPrune(t *testing.T) {
	f := newFixture(t, "pw", nil)
	ctx := context.Background()
	fresh := f.job(t, "pr/fresh", 1)
	retry(t, f.copier, f.batch(fresh))
	// The table's first load schedules its first prune in the background:
	// let it end before planting the old row, or it may take it first.
	f.copier.bg.Wait()
	name := f.copier.ledger.name(f.schema, "t")
	conn := stackproc.Connect(t, f.st)
	if _, err := conn.Exec(ctx, `INSERT INTO `+name+` (job_id, loaded_at) VALUES ('ancient', $1)`,
		time.Now().Add(-40*24*time.Hour).UTC().Format("2006-01-02 15:04:05")); err != nil {
		t.Fatal(err)
	}
	f.legacyLoad(t, "rin_ledger", "pr/legacy", 1, time.Now().Add(-40*24*time.Hour))

	// A load of the table holds its guard for a while; the prune waits.
	sim := f.st
	must(t, sim.SetCopyLatency(700*time.Millisecond))
	defer func() { must(t, sim.SetCopyLatency(0)) }()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		retry(t, f.copier, f.batch(f.job(t, "pr/slow", 1)))
	}()
	// Once the load holds the guard (its LOCK on the ledger, granted in the
	// backend), the prune must wait for the rest of its COPY.
	for deadline := time.Now().Add(10 * time.Second); ; {
		var held bool
		if err := conn.QueryRow(ctx, `SELECT count(*) > 0 FROM pg_locks WHERE relation = $1::regclass AND mode = 'AccessExclusiveLock' AND granted`, name).Scan(&held); err != nil {
			t.Fatal(err)
		}
		if held {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the slow load never took the table's guard")
		}
		time.Sleep(5 * time.Millisecond)
	}
	keep, _ := pruneWindow(config.Ledger{})
	start := time.Now()
	n, err := f.copier.prune(ctx, mustDB(t, f.copier, f.ep.Endpoint()), name, cutoffLiteral(time.Now(), keep))
	if err != nil || n != 1 {
		t.Fatalf("prune: %d rows, %v; want the ancient row only", n, err)
	}
	if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Errorf("the prune took %s: it did not wait for the load holding the guard", waited)
	}
	wg.Wait()
	must(t, sim.SetCopyLatency(0))
	var left int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM `+name).Scan(&left); err != nil || left != 2 {
		t.Fatalf("%d rows left, %v; want the two fresh loads", left, err)
	}
	if st := stats(t, sim); st.SerializationAborts != 0 {
		t.Errorf("%d serialization aborts", st.SerializationAborts)
	}

	// Through the schedule: the shared ledger holds only an old row. The
	// next load reads it (probing it again) and schedules its prune, which
	// empties it; from then on it is no longer read.
	f.copier.legacy.forget(f.ep.Endpoint())
	retry(t, f.copier, f.batch(f.job(t, "pr/probe", 1)))
	f.copier.bg.Wait()
	var shared int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM `+f.copier.ledger.legacyName()).Scan(&shared); err != nil || shared != 0 {
		t.Fatalf("shared ledger: %d rows, %v; want pruned", shared, err)
	}
	if f.copier.legacy.known(f.ep.Endpoint()) {
		t.Fatal("the emptied shared ledger is still read")
	}
}

func mustDB(t *testing.T, c *Copier, endpoint string) *sql.DB {
	t.Helper()
	db, err := c.DB(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// At most one prune per table per interval, one at a time.
func TestPruneSchedule(t *testing.T) {
	var p pruneSchedule
	now := time.Now()
	if !p.claim("a", now, time.Hour) {
		t.Fatal("first prune not due")
	}
	if p.claim("b", now, time.Hour) {
		t.Fatal("two prunes at once")
	}
	p.done()
	if p.claim("a", now.Add(time.Minute), time.Hour) {
		t.Fatal("a pruned twice within the interval")
	}
	if !p.claim("b", now.Add(time.Minute), time.Hour) {
		t.Fatal("b not due")
	}
	p.done()
	if !p.claim("a", now.Add(time.Hour), time.Hour) {
		t.Fatal("a not due after the interval")
	}
}
