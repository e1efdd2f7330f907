package redshift

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/redshiftdata"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/internal/stackproc"
	"github.com/rinhq/rin/journal"
)

// dataFixture is fixture with a redshift-data endpoint served by the Data
// API stand-in, and a DataAPICopier.
type dataFixture struct {
	*fixture
	copier *DataAPICopier
}

func newDataFixture(t *testing.T, ledger config.Ledger) *dataFixture {
	t.Helper()
	st := shared.Get(t)
	endpoint, err := st.StartDataAPI()
	if err != nil {
		t.Fatal(err)
	}
	f := &dataFixture{fixture: &fixture{st: st, schema: stackproc.Name("s"), bucket: stackproc.NewBucket(t, st)}}
	stackproc.NewTable(t, st, f.schema, "t", "src varchar(256), n int")
	f.ep = config.Redshift{Driver: config.DriverRedshiftData, Cluster: "x", User: "rin", DBName: "dev"}
	if ledger.Table == "" {
		ledger.Schema, ledger.Table = f.schema, "rin_ledger"
	}
	f.copier = NewDataAPI(DataAPIOptions{
		Endpoints:   map[string]config.Redshift{f.ep.Endpoint(): f.ep},
		Credentials: CopyCredentials{AccessKeyID: "AKIATEST", SecretAccessKey: "secret"},
		Ledger:      ledger,
		Manifest:    config.Manifest{Prefix: "_rin/manifests/"},
		Store:       st.S3(),
		Client: redshiftdata.New(redshiftdata.Options{
			BaseEndpoint: aws.String(endpoint), Region: "us-east-1",
			Credentials: credentials.NewStaticCredentialsProvider("AKIATEST", "secret", ""),
		}),
		PollMin: 5 * time.Millisecond, PollMax: 50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	return f
}

// rowsOf counts the table's rows loaded from key.
func (f *dataFixture) rowsOf(t *testing.T, key string) int {
	t.Helper()
	var n int
	q := "SELECT count(*) FROM " + pgx.Identifier{f.schema, "t"}.Sanitize() + " WHERE src = $1"
	if err := stackproc.Connect(t, f.st).QueryRow(t.Context(), q, key).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// ledgerRows counts the ledger rows of a job.
func (f *dataFixture) ledgerRows(t *testing.T, id string) int {
	t.Helper()
	var n int
	q := "SELECT count(*) FROM " + pgx.Identifier{f.schema, f.copier.ledger.tableFor(f.schema, "t")}.Sanitize() + " WHERE job_id = $1"
	if err := stackproc.Connect(t, f.st).QueryRow(t.Context(), q, id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A batch loads its exact objects once through the Data API; the same
// batch again is skipped by the ledger; manifests are cleaned up.
func TestDataAPICopyOnce(t *testing.T) {
	f := newDataFixture(t, config.Ledger{})
	a, a10 := f.job(t, "k/1", 2), f.job(t, "k/10", 3) // k/1 is a prefix of k/10
	f.job(t, "k/11", 5)                               // never in a batch: must never load
	res, err := f.copier.Copy(t.Context(), f.batch(a))
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 2 || f.rows(t) != 2 || len(res.Skipped) != 0 {
		t.Fatalf("first copy: %d rows reported, %d in table, skipped %v; want k/1's 2", res.Rows, f.rows(t), res.Skipped)
	}
	res, err = f.copier.Copy(t.Context(), f.batch(a, a10))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Skipped[a.ID] || res.Skipped[a10.ID] || res.Rows != 3 || f.rows(t) != 5 {
		t.Fatalf("second copy: skipped %v, rows %d, table %d; want k/1 skipped, k/10's 3 loaded", res.Skipped, res.Rows, f.rows(t))
	}
	res, err = f.copier.Copy(t.Context(), f.batch(a, a10))
	if err != nil || len(res.Skipped) != 2 || res.Rows != 0 || f.rows(t) != 5 {
		t.Fatalf("third copy: skipped %v, rows %d, table %d, %v; want all skipped", res.Skipped, res.Rows, f.rows(t), err)
	}
	if f.ledgerRows(t, a.ID) != 1 || f.ledgerRows(t, a10.ID) != 1 {
		t.Fatal("ledger does not hold each job once")
	}
	list, err := f.st.S3().ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(f.bucket), Prefix: aws.String("_rin/")})
	if err != nil || len(list.Contents) != 0 {
		t.Fatalf("manifests left behind: %v %v", list, err)
	}
}

// A job another loader commits between the ledger read and the batch makes
// the guard abort the whole batch; the second pass skips that job and
// loads the rest, so nothing is loaded twice.
func TestDataAPIGuardAbortsAndRetrySkips(t *testing.T) {
	f := newDataFixture(t, config.Ledger{})
	x, y := f.job(t, "g/x", 2), f.job(t, "g/y", 3)
	calls := 0
	f.copier.beforeBatch = func(ctx context.Context, todo []journal.Job) {
		calls++
		if calls > 1 {
			return
		}
		if len(todo) != 2 {
			t.Errorf("first pass loads %d jobs; want 2", len(todo))
		}
		// "Another rin process" loads x and commits, ledger row included.
		conn := stackproc.Connect(t, f.st)
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{
			"INSERT INTO " + pgx.Identifier{f.schema, "t"}.Sanitize() + " VALUES ('g/x', 0), ('g/x', 1)",
			"INSERT INTO " + pgx.Identifier{f.schema, f.copier.ledger.tableFor(f.schema, "t")}.Sanitize() + " (job_id, batch_id) VALUES ('" + x.ID + "', 'other')",
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	res, err := f.copier.Copy(t.Context(), f.batch(x, y))
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 || !res.Skipped[x.ID] || res.Skipped[y.ID] || res.Rows != 3 {
		t.Fatalf("%d passes, skipped %v, rows %d; want 2 passes, x skipped, y's 3 rows", calls, res.Skipped, res.Rows)
	}
	if f.rowsOf(t, "g/x") != 2 || f.rowsOf(t, "g/y") != 3 {
		t.Fatalf("rows: x %d (want 2, loaded once), y %d (want 3)", f.rowsOf(t, "g/x"), f.rowsOf(t, "g/y"))
	}
	if f.ledgerRows(t, x.ID) != 1 || f.ledgerRows(t, y.ID) != 1 {
		t.Fatalf("ledger rows: x %d, y %d; want 1 each", f.ledgerRows(t, x.ID), f.ledgerRows(t, y.ID))
	}
}

// A missing table is the table's fault, never the object's.
func TestDataAPIMissingTableHoldsTable(t *testing.T) {
	f := newDataFixture(t, config.Ledger{})
	b := f.batch(f.job(t, "m/1", 1))
	b.Dest.Table = "nope"
	_, err := f.copier.Copy(t.Context(), b)
	if fsm.ScopeOf(err) != fsm.ScopeTable || errors.Is(err, fsm.ErrBadObject) || !strings.Contains(err.Error(), "COPY") {
		t.Fatalf("err = %v (scope %s); want the table's, not a bad object, naming the COPY", err, fsm.ScopeOf(err))
	}
	if strings.Contains(err.Error(), "secret") {
		t.Fatalf("error shows the credentials: %v", err)
	}
}

// Bad data and a vanished object are the object's fault; nothing of the
// batch is loaded or recorded.
func TestDataAPIBadObject(t *testing.T) {
	f := newDataFixture(t, config.Ledger{})
	good := f.job(t, "b/good", 2)
	if err := f.st.PutObject(t.Context(), f.bucket, "b/bad", []byte(`{"src":"b/bad","n":"not a number"}`)); err != nil {
		t.Fatal(err)
	}
	bad := good
	bad.Key, bad.ID = "b/bad", "bad-id"
	gone := good
	gone.Key, gone.ID = "b/gone", "gone-id"
	for _, j := range []journal.Job{bad, gone} {
		_, err := f.copier.Copy(t.Context(), f.batch(good, j))
		if !errors.Is(err, fsm.ErrBadObject) {
			t.Fatalf("%s: err = %v; want a bad object", j.Key, err)
		}
	}
	if f.rows(t) != 0 || f.ledgerRows(t, good.ID) != 0 {
		t.Fatalf("%d rows, %d ledger rows after failed batches; want none", f.rows(t), f.ledgerRows(t, good.ID))
	}
}

// Without a ledger or manifests the batch is one prefix COPY per job, as
// the original Rin did.
func TestDataAPIWithoutLedgerOrManifest(t *testing.T) {
	f := newDataFixture(t, config.Ledger{Disabled: true, Table: "unused"})
	a, b := f.job(t, "n/a", 1), f.job(t, "n/b", 2)
	batch := f.batch(a, b)
	batch.Dest.Manifest = false
	res, err := f.copier.Copy(t.Context(), batch)
	if err != nil || res.Rows != 3 || f.rows(t) != 3 {
		t.Fatalf("rows %d, table %d, %v; want 3", res.Rows, f.rows(t), err)
	}
}

// A context that ends mid-COPY cancels the statement: nothing commits.
func TestDataAPIContextCancels(t *testing.T) {
	f := newDataFixture(t, config.Ledger{})
	must(t, f.st.SetCopyLatency(3*time.Second))
	defer func() { must(t, f.st.SetCopyLatency(0)) }()
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	_, err := f.copier.Copy(ctx, f.batch(f.job(t, "c/1", 1)))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v; want the context's", err)
	}
	time.Sleep(300 * time.Millisecond)
	if f.rows(t) != 0 {
		t.Fatal("a cancelled batch loaded rows")
	}
}

// A batch too big for one Data API request loads in parts, each with its
// own ledger rows; loading it again skips every job.
func TestDataAPISplitsLargeBatch(t *testing.T) {
	f := newDataFixture(t, config.Ledger{})
	var jobs []journal.Job
	for i := range 45 {
		jobs = append(jobs, f.job(t, fmt.Sprintf("p/%02d", i), 1))
	}
	b := f.batch(jobs...)
	b.Dest.Manifest = false // one COPY per job: 45 statements do not fit one batch
	res, err := f.copier.Copy(t.Context(), b)
	if err != nil || res.Rows != 45 || f.rows(t) != 45 {
		t.Fatalf("rows %d, table %d, %v; want 45", res.Rows, f.rows(t), err)
	}
	res, err = f.copier.Copy(t.Context(), b)
	if err != nil || len(res.Skipped) != 45 || f.rows(t) != 45 {
		t.Fatalf("again: skipped %d, table %d, %v; want all skipped", len(res.Skipped), f.rows(t), err)
	}
}
