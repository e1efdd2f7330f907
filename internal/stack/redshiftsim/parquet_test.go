package redshiftsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

// Parquet loads by position into the table's columns, with the usual
// types and nulls, from a prefix and from a manifest whose entries carry
// meta.content_length.

// pqRow is a test file's row: one column per table column, in its order.
type pqRow struct {
	ID    int32      `parquet:"id"`
	Big   *int64     `parquet:"big"`
	Name  *string    `parquet:"name"`
	Score *float64   `parquet:"score"`
	OK    *bool      `parquet:"ok"`
	At    *time.Time `parquet:"at,timestamp(microsecond)"`
}

// pqColumns is the table pqRow loads into.
const pqColumns = "id int, big bigint, name varchar(64), score double precision, ok boolean, at timestamp"

// parquetFile writes rows as a Parquet file (several row groups when
// rowGroup > 0).
func parquetFile[T any](t *testing.T, rows []T, rowGroup int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[T](&buf)
	for len(rows) > 0 {
		n := len(rows)
		if rowGroup > 0 {
			n = min(n, rowGroup)
		}
		if _, err := w.Write(rows[:n]); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		rows = rows[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func ptr[T any](v T) *T { return &v }

// hostileName is string data that must load as data, not SQL, nor as one
// of the positional keys the rows travel with.
const hostileName = `it's "q" \ $rinsim$ $$ é "\u0001c2":` + "\x01c3\":"

// pqFiles are three files: full rows, nulls in every nullable column, and
// a file with no rows at all.
func pqFiles(t *testing.T) [][]byte {
	at := time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
	return [][]byte{
		parquetFile(t, []pqRow{
			{ID: 1, Big: ptr(int64(1) << 40), Name: ptr(hostileName), Score: ptr(1.5), OK: ptr(true), At: ptr(at)},
			{ID: 2, Big: ptr(int64(-7)), Name: ptr("two"), Score: ptr(-0.25), OK: ptr(false), At: ptr(at.Add(time.Hour))},
			{ID: 3, Big: ptr(int64(3)), Name: ptr(""), Score: ptr(1e300), OK: ptr(true), At: ptr(time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC))},
		}, 2),
		parquetFile(t, []pqRow{{ID: 4}, {ID: 5, Name: ptr("five")}}, 0),
		parquetFile(t, []pqRow{}, 0),
	}
}

// pqWant is what the three files load, as the env's rows() reads them.
var pqWant = [][]string{
	{"1", "1099511627776", hostileName, "1.5", "true", "2024-05-06T07:08:09.123456Z"},
	{"2", "-7", "two", "-0.25", "false", "2024-05-06T08:08:09.123456Z"},
	{"3", "3", "", "1e+300", "true", "1999-12-31T23:59:59Z"},
	{"4", "NULL", "NULL", "NULL", "NULL", "NULL"},
	{"5", "NULL", "five", "NULL", "NULL", "NULL"},
}

// manifestOf is a manifest of the keys, each entry with its size unless
// meta is given for it.
func (e *env) sizedManifest(keys []string, sizes []int, meta map[string]string) []byte {
	var entries []string
	for i, k := range keys {
		u, _ := json.Marshal(e.url(k))
		m, ok := meta[k]
		if !ok {
			m = fmt.Sprintf(`,"meta":{"content_length":%d}`, sizes[i])
		}
		entries = append(entries, fmt.Sprintf(`{"url":%s,"mandatory":true%s}`, u, m))
	}
	return []byte(`{"entries":[` + strings.Join(entries, ",") + `]}`)
}

func TestParquetLoadsByPosition(t *testing.T) {
	e := newEnv(t)
	tbl := e.table(pqColumns)
	files := pqFiles(t)
	var keys []string
	var sizes []int
	for i, f := range files {
		key := fmt.Sprintf("pq/it's-%d.parquet", i)
		e.put(key, f)
		keys, sizes = append(keys, key), append(sizes, len(f))
	}
	check := func(how string) {
		t.Helper()
		if got := e.rows(tbl); fmt.Sprint(got) != fmt.Sprint(pqWant) {
			t.Fatalf("%s: rows =\n%q\nwant\n%q", how, got, pqWant)
		}
		e.exec("TRUNCATE " + quoteIdent(tbl))
	}

	e.exec(fmt.Sprintf("COPY %s FROM '%s' FORMAT AS PARQUET%s", tbl, e.url("pq/"), creds))
	check("prefix")

	e.put("pq.manifest", e.sizedManifest(keys, sizes, nil))
	e.exec(fmt.Sprintf("COPY %s FROM '%s'%s MANIFEST FORMAT PARQUET", tbl, e.url("pq.manifest"), creds))
	check("manifest, FORMAT PARQUET")

	// The extended protocol, and the options Redshift allows with Parquet.
	if _, err := e.pgxConn().Exec(e.ctx, fmt.Sprintf(`COPY %s FROM '%s' CREDENTIALS 'aws_iam_role=arn:aws:iam::1:role/r' MANIFEST
		FORMAT AS PARQUET ACCEPTINVCHARS AS '?' FILLRECORD SERIALIZETOJSON EXPLICIT_IDS STATUPDATE OFF`, tbl, e.url("pq.manifest"))); err != nil {
		t.Fatal(err)
	}
	check("pgx, allowed options")

	var n int
	if err := e.db.QueryRowContext(e.ctx, "SELECT count(*) FROM stl_load_commits WHERE query = pg_last_copy_id()").Scan(&n); err != nil || n != len(files) {
		t.Fatalf("stl_load_commits rows for the last COPY = %d, %v; want %d", n, err, len(files))
	}
}

// Redshift maps by position, so a file whose columns are fewer than the
// table's loads with FILLRECORD or a column list naming as many.
func TestParquetFewerColumns(t *testing.T) {
	e := newEnv(t)
	tbl := e.table(pqColumns + ", extra varchar(8)")
	e.put("few/a.parquet", pqFiles(t)[1])
	e.exec(fmt.Sprintf("COPY %s FROM '%s' FORMAT AS PARQUET FILLRECORD%s", tbl, e.url("few/"), creds))
	e.exec(fmt.Sprintf("COPY %s (id, big, name, score, ok, at) FROM '%s' FORMAT AS PARQUET%s", tbl, e.url("few/"), creds))
	got := e.rows(tbl)
	if len(got) != 4 || got[3][2] != "five" || got[3][6] != "NULL" {
		t.Fatalf("rows = %q", got)
	}
}

// Logical types beyond the usual ones: dates, decimals, unsigned ints,
// millisecond and nanosecond timestamps, and floats out of range.
func TestParquetLogicalTypes(t *testing.T) {
	type row struct {
		D   int32   `parquet:"d,date"` // days (parquet-go v0.32.1 writes a time.Time DATE as nanoseconds)
		Ms  int64   `parquet:"ms,timestamp(millisecond)"`
		Ns  int64   `parquet:"ns,timestamp(nanosecond)"`
		U   uint32  `parquet:"u"`
		Dec int64   `parquet:"dec,decimal(2:18)"`
		F   float32 `parquet:"f"`
	}
	e := newEnv(t)
	tbl := e.table("d date, ms timestamp, ns timestamp, u bigint, dec numeric(18,2), f real")
	at := time.Date(2021, 2, 3, 4, 5, 6, 789000000, time.UTC)
	e.put("lt/a.parquet", parquetFile(t, []row{{D: int32(at.Unix() / 86400), Ms: at.UnixMilli(), Ns: at.UnixNano(), U: 4000000000, Dec: -12345, F: 0.5}}, 0))
	e.exec(fmt.Sprintf("COPY %s FROM '%s' FORMAT AS PARQUET%s", tbl, e.url("lt/"), creds))
	want := []string{"2021-02-03T00:00:00Z", "2021-02-03T04:05:06.789Z", "2021-02-03T04:05:06.789Z", "4000000000", "-123.45", "0.5"}
	if got := e.rows(tbl); len(got) != 1 || fmt.Sprint(got[0]) != fmt.Sprint(want) {
		t.Fatalf("rows = %q, want %q", got, want)
	}
}
