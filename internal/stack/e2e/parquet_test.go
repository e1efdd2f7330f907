package e2e

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parquet-go/parquet-go"

	"github.com/rinhq/rin/internal/stack"
)

// Parquet end to end (issue 13): the simulator enforces Redshift's columnar
// rules (no REGION, meta.content_length in every manifest entry, columns by
// position), so objects load only if rin gets all of them right.

// pqObjectRow is a row of a test Parquet object; the columns, in order, are
// the pq table's.
type pqObjectRow struct {
	Src    string    `parquet:"src"`
	N      int32     `parquet:"n"`
	Msg    string    `parquet:"msg"`
	Amount float64   `parquet:"amount"`
	OK     bool      `parquet:"ok"`
	At     time.Time `parquet:"at,timestamp(microsecond)"`
	Note   *string   `parquet:"note"` // null in most rows
}

const pqTableColumns = "src varchar(1024), n int, msg varchar(256), amount double precision, ok boolean, at timestamp, note varchar(64)"

// parquetBytes writes rows as a Parquet file, one column per field.
func parquetBytes[T any](rows []T) ([]byte, error) {
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[T](&buf)
	if _, err := w.Write(rows); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// pqObject is the body of a test Parquet object: rows rows naming their
// key, the first with a note, the others with none.
func pqObject(t testing.TB, key string, rows int) []byte {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rs := make([]pqObjectRow, rows)
	for i := range rs {
		rs[i] = pqObjectRow{Src: key, N: int32(i), Msg: fmt.Sprintf("row %d of %s", i, key), Amount: float64(i) / 4,
			OK: i%2 == 0, At: at.Add(time.Duration(i) * time.Second)}
		if i == 0 {
			note := `it's "noted" \ $x`
			rs[i].Note = &note
		}
	}
	b, err := parquetBytes(rs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParquetLoadsExactlyOnce: 500 Parquet objects through the real rin
// binary load exactly once, with no COPY refused on the way; a fifth of the
// events carry no size, so rin must HEAD those objects for their manifest
// entries.
func TestParquetLoadsExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("slow end-to-end test: skipped with -short (make test-short); make test runs it")
	}
	const objects, rows = 500, 4
	e := newEnv(t)
	e.exec(fmt.Sprintf(`CREATE TABLE %s (%s)`, pgx.Identifier{e.schema, "pq"}.Sanitize(), pqTableColumns))
	cfg := e.writeConfig("config.yaml", "  - redshift: {table: pq}\n    s3: {key_prefix: pq/}\n    sql_option: \"FORMAT AS PARQUET\"\n", "")

	want := map[string]int{}
	bodies := make([]string, objects)
	for i := range bodies {
		key := fmt.Sprintf("pq/%04d it's.parquet", i)
		ev := e.put(key, pqObject(t, key, rows))
		if i%5 == 0 {
			ev.Size = 0
		}
		bodies[i] = stack.S3EventBody(ev)
		want[key] = rows
	}
	if err := sendConcurrently(context.Background(), e.st, e.queueURL, bodies); err != nil {
		t.Fatal(err)
	}
	before := e.st.Redshift().Stats()
	if code, out := e.run(3*time.Minute, "-config", cfg, "-batch"); code != 0 {
		t.Fatalf("rin -batch exited %d:\n%s", code, tail([]byte(out), 4000))
	}
	after := e.st.Redshift().Stats()

	e.assertRows(e.schema, "pq", want)
	e.assertSettled(0)
	if failed := after.CopiesFailed - before.CopiesFailed; failed != 0 {
		t.Errorf("%d COPYs failed; rin's Parquet COPYs must pass Redshift's rules the first time", failed)
	}
	var nulls, notes int
	conn := e.backend()
	defer conn.Close(context.Background())
	err := conn.QueryRow(context.Background(), fmt.Sprintf(`SELECT count(*) FILTER (WHERE note IS NULL), count(*) FILTER (WHERE note = $1 AND n = 0 AND ok AND at = '2026-01-02 03:04:05')
		FROM %s`, pgx.Identifier{e.schema, "pq"}.Sanitize()), `it's "noted" \ $x`).Scan(&nulls, &notes)
	if err != nil || nulls != objects*(rows-1) || notes != objects {
		t.Errorf("nulls %d (want %d), first rows as written %d (want %d), err %v", nulls, objects*(rows-1), notes, objects, err)
	}
	e.assertNoSecrets()
}
