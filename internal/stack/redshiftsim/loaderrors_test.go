package redshiftsim

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// Bad rows fail the COPY, or are skipped under MAXERROR, and are recorded
// in stl_load_errors either way, as Redshift does.

// stlError is the part of an stl_load_errors row the tests compare.
type stlError struct {
	file, colname, typ, colLength, rawLine, rawField, reason string
	line, position, code                                     int
}

func (e *env) stlErrors(query int) []stlError {
	e.t.Helper()
	rows, err := e.db.QueryContext(e.ctx, `SELECT trim(filename), line_number, trim(colname), trim(type), trim(col_length),
		position, raw_line, raw_field_value, err_code, trim(err_reason)
		FROM stl_load_errors WHERE query = $1 ORDER BY filename, line_number`, query)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []stlError
	for rows.Next() {
		var r stlError
		if err := rows.Scan(&r.file, &r.line, &r.colname, &r.typ, &r.colLength, &r.position, &r.rawLine, &r.rawField, &r.code, &r.reason); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

func TestLoadErrorsFailTheCopy(t *testing.T) {
	e := newEnv(t)
	tbl := e.table("id int, name varchar(5)")
	wantMsg := "Load into table '" + tbl + "' failed.  Check 'stl_load_errors' system table for details."
	for _, tc := range []struct {
		name, key, data, options string
		want                     stlError
	}{
		{"json syntax", "le/syntax.json", "{\"id\":1}\n{\"id\":2,\"name\":\n{\"id\":3}\n", " JSON 'auto'",
			stlError{line: 2, rawLine: `{"id":2,"name":`, code: 1216, reason: "Invalid JSON syntax: unexpected EOF"}},
		{"json not an object", "le/array.json", "{\"id\":1}\n[1,2]\n", " JSON 'auto'",
			stlError{line: 2, rawLine: "[1,2]", code: 1216, reason: "Invalid JSON object: the record is not a JSON object"}},
		{"invalid digit", "le/digit.json", "{\"id\":1}\n\n{\"id\":\"12x4\",\"name\":\"a\"}\n", " JSON 'auto'",
			stlError{line: 3, rawLine: `{"id":"12x4","name":"a"}`, colname: "id", typ: "int4", colLength: "0", position: 2, rawField: "12x4",
				code: 1207, reason: "Invalid digit, Value 'x', Pos 2, Type: Integer"}},
		{"too long", "le/long.csv", "1,ok\n2,toolong\n", " CSV",
			stlError{line: 2, rawLine: "2,toolong", colname: "name", typ: "varchar", colLength: "5", rawField: "toolong",
				code: 1204, reason: "String length exceeds DDL length"}},
		{"extra column", "le/extra.txt", "1|a\n2|b|c\n", "",
			stlError{line: 2, rawLine: "2|b|c", code: 1214, reason: "Extra column(s) found"}},
		{"missing column", "le/short.csv", "1,a\r\n2\r\n", " CSV",
			stlError{line: 2, rawLine: "2", code: 1214, reason: "Delimiter not found"}},
	} {
		e.put(tc.key, []byte(tc.data))
		tc.want.file = e.url(tc.key)
		_, err := e.db.ExecContext(e.ctx, fmt.Sprintf("COPY public.%s FROM '%s'%s%s", tbl, e.url(tc.key), tc.options, creds))
		pe := pqError(t, err)
		if pe.Code != "XX000" || pe.Message != wantMsg || pe.Detail != "" || pe.Where != "" {
			t.Errorf("%s: got %s %q detail %q where %q\nwant XX000 %q", tc.name, pe.Code, pe.Message, pe.Detail, pe.Where, wantMsg)
		}
		got := e.stlErrors(e.lastCopyID())
		if len(got) != 1 || got[0] != tc.want {
			t.Errorf("%s: stl_load_errors = %+v\nwant %+v", tc.name, got, tc.want)
		}
	}
	if n := e.count(tbl); n != 0 {
		t.Fatalf("rows = %d, want 0", n)
	}
	if st := e.srv.Stats(); st.RowsRejected != 6 || st.CopiesFailed != 6 {
		t.Fatalf("stats = %+v", st)
	}
}

// manifestOf writes a manifest listing keys and returns its URL.
func (e *env) manifestOf(name string, keys ...string) string {
	e.t.Helper()
	var b strings.Builder
	b.WriteString(`{"entries":[`)
	for i, k := range keys {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"url":%q,"mandatory":true}`, e.url(k))
	}
	b.WriteString("]}")
	e.put(name, []byte(b.String()))
	return e.url(name)
}

// MAXERROR counts over the whole COPY: three files with one bad row each
// load under MAXERROR 3 and fail under MAXERROR 2, and the bad rows are in
// stl_load_errors either way, even after the failed COPY's rollback.
func TestMaxError(t *testing.T) {
	e := newEnv(t)
	tbl := e.table("id int, name varchar(5)")
	e.put("mx/1.json", []byte("{\"id\":1}\n{\"id\":\"one\"}\n{\"id\":2}\n"))
	e.put("mx/2.json", []byte("{\"id\":3}\nnot json\n{\"id\":4}\n"))
	e.put("mx/3.csv", []byte("5,a\n6,abcdefgh\n"))
	m := e.manifestOf("mxm/1.manifest", "mx/1.json", "mx/2.json")

	// Under MAXERROR 1 two bad rows (one found parsing, one converting)
	// fail the COPY; the failed COPY's rows are recorded nonetheless.
	tx, err := e.db.BeginTx(e.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tx.ExecContext(e.ctx, fmt.Sprintf("COPY %s FROM '%s' JSON 'auto' MANIFEST MAXERROR 1%s", tbl, m, creds))
	if pe := pqError(t, err); pe.Message != "Load into table '"+tbl+"' failed.  Check 'stl_load_errors' system table for details." {
		t.Fatalf("MAXERROR 1: %q", pe.Message)
	}
	_ = tx.Rollback()
	failed := e.lastCopyID()
	want := []stlError{
		{file: e.url("mx/1.json"), line: 2, rawLine: `{"id":"one"}`, colname: "id", typ: "int4", colLength: "0", rawField: "one",
			code: 1207, reason: "Invalid digit, Value 'o', Pos 0, Type: Integer"},
		{file: e.url("mx/2.json"), line: 2, rawLine: "not json", code: 1216, reason: "Invalid JSON syntax: invalid character 'o' in literal null (expecting 'u')"},
	}
	if got := e.stlErrors(failed); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("stl_load_errors after failed COPY:\n%+v\nwant\n%+v", got, want)
	}

	// MAXERROR AS 2 lets both be skipped: the good rows load, and the
	// client hears how many were skipped.
	conn := e.pgxConn()
	var notices []string
	cfg, err := pgconn.ParseConfig(e.dsn("", ""))
	if err != nil {
		t.Fatal(err)
	}
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) { notices = append(notices, n.Severity+": "+n.Message) }
	pc, err := pgconn.ConnectConfig(e.ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close(context.Background())
	res := pc.ExecParams(e.ctx, fmt.Sprintf("COPY %s FROM '%s' JSON 'auto' MANIFEST MAXERROR AS 2%s", tbl, m, creds), nil, nil, nil, nil).Read()
	if res.Err != nil || res.CommandTag.String() != "COPY 4" {
		t.Fatalf("MAXERROR 2: %q %v", res.CommandTag, res.Err)
	}
	wantNotices := []string{
		"INFO: Load into table '" + tbl + "' completed, 4 record(s) loaded successfully.",
		"NOTICE: Load into table '" + tbl + "' completed, 2 record(s) could not be loaded.  Check 'stl_load_errors' system table for details.",
	}
	if fmt.Sprint(notices) != fmt.Sprint(wantNotices) {
		t.Fatalf("notices = %q\nwant %q", notices, wantNotices)
	}
	var ok int
	if err := conn.QueryRow(e.ctx, "SELECT pg_last_copy_id()").Scan(&ok); err != nil || ok != -1 {
		t.Fatalf("another session's pg_last_copy_id() = %d, %v; want -1", ok, err)
	}
	var id, count int64
	rr := pc.ExecParams(e.ctx, "SELECT pg_last_copy_id(), pg_last_copy_count()", nil, nil, nil, nil).Read()
	if rr.Err != nil || len(rr.Rows) != 1 {
		t.Fatalf("pg_last_copy_*: %v", rr.Err)
	}
	fmt.Sscan(string(rr.Rows[0][0]), &id)
	fmt.Sscan(string(rr.Rows[0][1]), &count)
	if int(id) <= failed || count != 4 {
		t.Fatalf("pg_last_copy_id/count = %d/%d, want > %d and 4", id, count, failed)
	}
	if got := e.stlErrors(int(id)); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("stl_load_errors after partial load:\n%+v\nwant\n%+v", got, want)
	}
	if got := fmt.Sprint(e.rows(tbl)); got != "[[1 NULL] [2 NULL] [3 NULL] [4 NULL]]" {
		t.Fatalf("rows = %s", got)
	}

	// Delimited input: MAXERROR in sql_option form, and without it.
	_, err = e.db.ExecContext(e.ctx, fmt.Sprintf("COPY %s FROM '%s' CSV%s", tbl, e.url("mx/3.csv"), creds))
	if pqError(t, err).Code != "XX000" {
		t.Fatal(err)
	}
	e.exec(fmt.Sprintf("COPY %s FROM '%s' CSV %s MAXERROR 1", tbl, e.url("mx/3.csv"), creds))
	if n := e.count(tbl); n != 5 {
		t.Fatalf("rows = %d, want 5", n)
	}
	if st := e.srv.Stats(); st.RowsRejected != 6 {
		t.Fatalf("stats = %+v", st)
	}
}

// The session functions and the system tables answer in the COPY's own
// session and transaction, before COMMIT, through lib/pq (simple and
// extended protocol) and pgx (prepared, cached statements).
func TestLoadBookkeepingInTransaction(t *testing.T) {
	e := newEnv(t)
	tbl := e.table("id int, name text")
	e.put("bk/1.json", []byte("{\"id\":1}\n{\"id\":\"x\"}\n"))
	e.put("bk/2.json", []byte("{\"id\":2}\n{\"id\":3}\n\n"))
	m := e.manifestOf("bkm/1.manifest", "bk/1.json", "bk/2.json")
	copySQL := fmt.Sprintf("/* Rin */ COPY %s FROM '%s' JSON 'auto' MANIFEST %s MAXERROR 10", tbl, m, creds)

	db := e.open("")
	db.SetMaxOpenConns(1)
	var id, count int64
	if err := db.QueryRowContext(e.ctx, "SELECT pg_last_copy_id(), pg_last_copy_count()").Scan(&id, &count); err != nil || id != -1 || count != 0 {
		t.Fatalf("before any COPY: %d %d %v", id, count, err)
	}
	tx, err := db.BeginTx(e.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(e.ctx, copySQL); err != nil {
		t.Fatal(err)
	}
	if err := tx.QueryRowContext(e.ctx, "SELECT pg_last_copy_id(), pg_catalog.PG_LAST_COPY_COUNT ( )").Scan(&id, &count); err != nil || id <= 0 || count != 3 {
		t.Fatalf("in tx: %d %d %v", id, count, err)
	}
	files := func(q queryer, sql string, args ...any) string {
		t.Helper()
		rows, err := q.QueryContext(e.ctx, sql, args...)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var f string
			var n int
			if err := rows.Scan(&f, &n); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s=%d", f, n))
		}
		return strings.Join(out, " ")
	}
	errs := files(tx, "SELECT filename, count(*) FROM stl_load_errors WHERE query = pg_last_copy_id() GROUP BY filename")
	if errs != e.url("bk/1.json")+"=1" {
		t.Fatalf("stl_load_errors: %s", errs)
	}
	commits := "SELECT filename, lines_scanned FROM stl_load_commits WHERE query = $1 ORDER BY filename"
	want := e.url("bk/1.json") + "=2 " + e.url("bk/2.json") + "=3"
	if got := files(tx, commits, id); got != want {
		t.Fatalf("stl_load_commits (lib/pq, extended): %s, want %s", got, want)
	}
	var errCount int
	if err := tx.QueryRowContext(e.ctx, "SELECT errors FROM pg_catalog.stl_load_commits WHERE query = $1 AND filename = $2", id, e.url("bk/1.json")).Scan(&errCount); err != nil || errCount != 1 {
		t.Fatalf("stl_load_commits.errors = %d, %v", errCount, err)
	}
	// The rows were written outside the transaction: they survive the
	// rollback, stl_load_commits and the COPY id (as in Redshift) do not.
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if got := e.stlErrors(int(id)); len(got) != 1 {
		t.Fatalf("stl_load_errors after rollback: %+v", got)
	}
	if got := files(db, commits, id); got != "" {
		t.Fatalf("stl_load_commits after rollback: %s", got)
	}
	if err := db.QueryRowContext(e.ctx, "SELECT pg_last_copy_id()").Scan(&id); err != nil || id != -1 {
		t.Fatalf("pg_last_copy_id() after rollback = %d, %v", id, err)
	}

	// pgx: cached prepared statements must see each new COPY.
	conn := e.pgxConn()
	var prev int64 = -1
	for i := range 2 {
		tx, err := conn.Begin(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(e.ctx, copySQL); err != nil {
			t.Fatal(err)
		}
		if err := tx.QueryRow(e.ctx, "SELECT pg_last_copy_id(), pg_last_copy_count()").Scan(&id, &count); err != nil || id <= prev || count != 3 {
			t.Fatalf("pgx %d: %d %d %v (previous %d)", i, id, count, err, prev)
		}
		rows, err := tx.Query(e.ctx, commits, id)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		rows.Close()
		if n != 2 || rows.Err() != nil {
			t.Fatalf("pgx stl_load_commits: %d rows, %v", n, rows.Err())
		}
		if err := tx.Commit(e.ctx); err != nil {
			t.Fatal(err)
		}
		prev = id
	}
	if n := e.count(tbl); n != 6 {
		t.Fatalf("rows = %d, want 6", n)
	}
	// Names in strings, and other schemas' tables of the same name, are left alone.
	var s string
	if err := conn.QueryRow(e.ctx, "SELECT 'stl_load_errors pg_last_copy_id()'").Scan(&s); err != nil || s != "stl_load_errors pg_last_copy_id()" {
		t.Fatalf("literal: %q %v", s, err)
	}
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func TestRewriteSysNames(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT * FROM stl_load_errors":                              "SELECT * FROM rinsim.stl_load_errors",
		"select * from PG_CATALOG.STL_LOAD_COMMITS c":                "select * from rinsim.stl_load_commits c",
		"SELECT pg_last_copy_id( ), pg_last_copy_count()":            "SELECT rinsim.pg_last_copy_id(E's1'), rinsim.pg_last_copy_count(E's1')",
		"SELECT * FROM other.stl_load_errors":                        "SELECT * FROM other.stl_load_errors",
		`SELECT 'stl_load_errors', "stl_load_errors" FROM x`:         `SELECT 'stl_load_errors', "stl_load_errors" FROM x`,
		"SELECT pg_last_copy_id /* no call */":                       "SELECT pg_last_copy_id /* no call */",
		"SELECT 1; SELECT * FROM stl_load_errors -- stl_load_errors": "SELECT 1; SELECT * FROM rinsim.stl_load_errors -- stl_load_errors",
	} {
		if got := rewriteSysNames(in, "s1"); got != want {
			t.Errorf("%s\n got %s\nwant %s", in, got, want)
		}
	}
}

// A table created in the COPY's own, uncommitted transaction is invisible
// to any other connection; the load is checked inside the transaction, so
// it works the same. A missing table is still PostgreSQL's 42P01.
func TestLoadErrorsInUncommittedTable(t *testing.T) {
	e := newEnv(t)
	e.put("nt/a.json", []byte("{\"id\":1}\n{\"id\":\"bad\"}\n"))
	conn := e.pgxConn()
	name := "nt_" + strings.ToLower(strings.ReplaceAll(e.srv.nonce, "-", ""))
	tx, err := conn.Begin(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(e.ctx, "CREATE TABLE "+name+" (id int)"); err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec(e.ctx, e.copyJSON(name, "nt/"))
	var pg *pgconn.PgError
	if !errors.As(err, &pg) || pg.Code != "XX000" || pg.Message != "Load into table '"+name+"' failed.  Check 'stl_load_errors' system table for details." || pg.Detail != "" {
		t.Fatalf("err = %v", err)
	}
	_ = tx.Rollback(e.ctx)
	var tblID, line int
	var reason string
	if err := conn.QueryRow(e.ctx, "SELECT tbl, line_number, err_reason FROM stl_load_errors WHERE query = pg_last_copy_id()").Scan(&tblID, &line, &reason); err != nil ||
		tblID == 0 || line != 2 || reason != "Invalid digit, Value 'b', Pos 0, Type: Integer" {
		t.Fatalf("stl_load_errors: tbl %d line %d %q %v", tblID, line, reason, err)
	}

	_, err = conn.Exec(e.ctx, e.copyJSON("public.nosuch", "nt/"))
	if !errors.As(err, &pg) || pg.Code != "42P01" || pg.Message != `relation "public.nosuch" does not exist` {
		t.Fatalf("missing table: %v", err)
	}
}

// S3 keys and data in rejected rows are data, in the generated SQL and in
// stl_load_errors alike.
func TestLoadErrorsHostile(t *testing.T) {
	e := newEnv(t)
	tbl := e.table("id int, name text")
	key := `it's $rinsim$ a; DROP TABLE ` + tbl + `; --/part.json`
	line := `{"id":"'); DROP TABLE ` + tbl + `; -- $rinsim$ \\x"}`
	e.put(key, []byte("{\"id\":1,\"name\":\"ok\"}\n"+line+"\n"))
	quoted := strings.ReplaceAll(e.url(key), "'", "''")
	e.exec(fmt.Sprintf("COPY %s FROM '%s' JSON 'auto' MAXERROR 1%s", tbl, quoted, creds))
	got := e.stlErrors(e.lastCopyID())
	if len(got) != 1 || got[0].file != e.url(key) || got[0].rawLine != line || got[0].rawField != `'); DROP TABLE `+tbl+`; -- $rinsim$ \x` {
		t.Fatalf("stl_load_errors = %+v", got)
	}
	if n := e.count(tbl); n != 1 {
		t.Fatalf("rows = %d", n)
	}
}
