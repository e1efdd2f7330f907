package redshift

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/internal/stackproc"
	"github.com/rinhq/rin/journal"
)

// BenchmarkLedgerLookup is the ledger check of one load — the ids of 1,000
// jobs, half of them loaded, every id a job may be recorded under — against
// one table's ledger as it grows to 10 million rows, in the simulator,
// through the proxy, as the Copier runs it. The ledger is created by rin's
// own DDL, whose sort key (job_id) the simulator turns into an index (the
// zone maps of a sorted Redshift table); the rows are generated in the
// backend with one INSERT ... SELECT generate_series per size. The lookup
// should cost the same at every size.
//
// It runs only with RIN_BENCH=1 (10 million rows take a few minutes to
// generate); RIN_BENCH_LEDGER_ROWS lists the sizes (default
// 10000,100000,1000000,10000000); RIN_BENCH_LEDGER_NOSORT=1 also times the
// lookup on a copy of the rows without the sort key, for comparison.
func BenchmarkLedgerLookup(b *testing.B) {
	if os.Getenv("RIN_BENCH") == "" {
		b.Skip("run with RIN_BENCH=1 (make bench)")
	}
	sizes := []int{10_000, 100_000, 1_000_000, 10_000_000}
	if spec := os.Getenv("RIN_BENCH_LEDGER_ROWS"); spec != "" {
		sizes = nil
		for _, f := range strings.Split(spec, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1000 {
				b.Fatalf("RIN_BENCH_LEDGER_ROWS=%q: %q is not a count of at least 1000", spec, f)
			}
			sizes = append(sizes, n)
		}
	}
	ctx := context.Background()
	st := shared.Get(b)
	schema := stackproc.Name("bench")
	stackproc.NewTable(b, st, schema, "events", "src varchar(256), n int")
	host, port := st.RedshiftHostPort()
	ep := configRedshift(host, port, st.Database(), "rin", "pw")
	c := New(Options{
		Endpoints: map[string]config.Redshift{ep.Endpoint(): ep},
		Ledger:    config.Ledger{Schema: schema, Table: "rin_ledger"},
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	defer c.Close()
	db, err := c.DB(ep.Endpoint())
	if err != nil {
		b.Fatal(err)
	}
	if err := c.ensureLedger(ctx, ep.Endpoint(), db, schema, "events"); err != nil {
		b.Fatal(err)
	}
	name := c.ledger.name(schema, "events")
	backend, err := pgx.Connect(ctx, st.BackendDSN())
	if err != nil {
		b.Fatal(err)
	}
	defer backend.Close(ctx)
	defer backend.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")

	have := 0
	for _, n := range sizes {
		start := time.Now()
		// Job ids as rin makes them: 32 hex digits (md5 of the row number).
		if _, err := backend.Exec(ctx, `INSERT INTO `+name+` (job_id, batch_id, target, s3_uri, object_version, row_count, loaded_at)
			SELECT md5(i::text), 'bench', 'targets[0]', 's3://bench/obj/' || i, 'v', 10, now() - (i % 1000) * interval '1 minute'
			FROM generate_series($1::bigint, $2::bigint) i`, have+1, n); err != nil {
			b.Fatal(err)
		}
		// As Redshift's automatic vacuum sorts a table in the background.
		if _, err := backend.Exec(ctx, "VACUUM ANALYZE "+name); err != nil {
			b.Fatal(err)
		}
		b.Logf("ledger grown to %d rows in %s", n, time.Since(start).Round(time.Millisecond))
		have = n
		// 500 loaded (spread over the table) and 500 never loaded.
		jobs := make([]journal.Job, 0, 1000)
		for i := range 500 {
			jobs = append(jobs, journal.Job{ID: md5hex(1 + i*(n/500)), Endpoint: ep.Endpoint(), Schema: schema, Table: "events", Bucket: "bench", Key: fmt.Sprintf("obj/%d", i)})
			jobs = append(jobs, journal.Job{ID: fmt.Sprintf("%032x", i), Endpoint: ep.Endpoint(), Schema: schema, Table: "events", Bucket: "bench", Key: fmt.Sprintf("new/%d", i)})
		}
		lookup := func(table string) func(b *testing.B) {
			return func(b *testing.B) {
				for b.Loop() {
					got, err := loaded(ctx, db, table, jobs)
					if err != nil {
						b.Fatal(err)
					}
					if len(got) != 500 {
						b.Fatalf("%d of the 500 loaded jobs found", len(got))
					}
				}
			}
		}
		b.Run(fmt.Sprintf("rows=%d", n), lookup(name))
		if os.Getenv("RIN_BENCH_LEDGER_NOSORT") != "" {
			// For comparison: the same rows in a table without the sort key.
			plain := pgx.Identifier{schema, fmt.Sprintf("nosort_%d", n)}.Sanitize()
			if _, err := backend.Exec(ctx, "CREATE TABLE "+plain+" AS SELECT * FROM "+name); err != nil {
				b.Fatal(err)
			}
			if _, err := backend.Exec(ctx, "VACUUM ANALYZE "+plain); err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("nosortkey/rows=%d", n), lookup(plain))
		}
	}
}

// md5hex is PostgreSQL's md5(i::text).
func md5hex(i int) string {
	sum := md5.Sum([]byte(strconv.Itoa(i)))
	return hex.EncodeToString(sum[:])
}
