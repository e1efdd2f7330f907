package redshiftsim

import (
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// COPY must behave like a statement of the client's transaction in every
// protocol path rin may use.

func jsonLines(n int) []byte {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "{\"id\": %d, \"name\": \"n%d\"}\n", i, i)
	}
	return []byte(b.String())
}

func TestSimpleProtocolCopyFollowsTransaction(t *testing.T) {
	e := newEnv(t)
	tbl := e.table("id int, name text")
	e.put("simple/part-1.json", jsonLines(3))
	copySQL := e.copyJSON(tbl, "simple/")

	tx, err := e.db.BeginTx(e.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tx.ExecContext(e.ctx, copySQL)
	if err != nil {
		t.Fatalf("COPY: %v", err)
	}
	if n, _ := res.RowsAffected(); n != 3 {
		t.Fatalf("RowsAffected = %d, want 3", n)
	}
	var inTx int
	if err := tx.QueryRowContext(e.ctx, "SELECT count(*) FROM "+tbl).Scan(&inTx); err != nil || inTx != 3 {
		t.Fatalf("rows visible in tx = %d, %v; want 3", inTx, err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if n := e.count(tbl); n != 0 {
		t.Fatalf("after ROLLBACK: %d rows, want 0", n)
	}

	tx, err = e.db.BeginTx(e.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(e.ctx, "/* Rin */ "+copySQL); err != nil {
		t.Fatalf("COPY with leading comment: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := e.rows(tbl); fmt.Sprint(got) != "[[1 n1] [2 n2] [3 n3]]" {
		t.Fatalf("after COMMIT: %v", got)
	}
	if st := e.srv.Stats(); st.Copies != 2 || st.RowsLoaded != 6 || st.CopiesFailed != 0 {
		t.Fatalf("stats = %+v", st)
	}
}

// lib/pq uses the extended protocol only for prepared statements; a
// statement starting with "COPY" would switch it to COPY FROM STDIN, which
// is why rin prefixes /* Rin */.
func TestExtendedProtocolLibPQ(t *testing.T) {
	e := newEnv(t)
	tbl := e.table("id int, name text")
	e.put("ext/a.json", jsonLines(2))
	copySQL := fmt.Sprintf("/* Rin */ COPY %s FROM '%s' FORMAT AS JSON 'auto'%s", tbl, e.url("ext/"), creds)

	for _, commit := range []bool{false, true} {
		tx, err := e.db.BeginTx(e.ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		stmt, err := tx.PrepareContext(e.ctx, copySQL)
		if err != nil {
			t.Fatalf("Prepare: %v", err)
		}
		res, err := stmt.ExecContext(e.ctx)
		if err != nil {
			t.Fatalf("Exec: %v", err)
		}
		if n, _ := res.RowsAffected(); n != 2 {
			t.Fatalf("RowsAffected = %d, want 2", n)
		}
		_ = stmt.Close()
		if commit {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := e.count(tbl); n != 2 {
		t.Fatalf("rows = %d, want 2 (rolled back once, committed once)", n)
	}
	// Ordinary parameterised statements still work through the proxy.
	var got string
	if err := e.db.QueryRowContext(e.ctx, "SELECT name FROM "+tbl+" WHERE id = $1", 2).Scan(&got); err != nil || got != "n2" {
		t.Fatalf("parameterised select = %q, %v", got, err)
	}
}

func TestExtendedProtocolPgx(t *testing.T) {
	e := newEnv(t)
	tbl := e.table("id int, name text")
	e.put("pgx/a.json", jsonLines(4))
	copySQL := e.copyJSON(tbl, "pgx/")

	conn := e.pgxConn()
	if v := conn.PgConn().ParameterStatus("server_version"); v != "8.0.2" {
		t.Fatalf("server_version = %q, want 8.0.2", v)
	}

	// Parse/Bind/Describe/Execute/Sync with the unnamed statement.
	tx, err := conn.Begin(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	res := conn.PgConn().ExecParams(e.ctx, copySQL, nil, nil, nil, nil).Read()
	if res.Err != nil {
		t.Fatalf("ExecParams: %v", res.Err)
	}
	if res.CommandTag.RowsAffected() != 4 || res.CommandTag.String() != "COPY 4" {
		t.Fatalf("tag = %q", res.CommandTag)
	}
	if err := tx.Rollback(e.ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.count(tbl); n != 0 {
		t.Fatalf("after rollback: %d rows", n)
	}

	// A named prepared COPY, executed twice in one committed transaction.
	if _, err := conn.Prepare(e.ctx, "load", copySQL); err != nil {
		t.Fatal(err)
	}
	tx, err = conn.Begin(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		tag, err := tx.Exec(e.ctx, "load")
		if err != nil {
			t.Fatalf("exec prepared: %v", err)
		}
		if tag.RowsAffected() != 4 {
			t.Fatalf("tag = %q", tag)
		}
	}
	if err := tx.Commit(e.ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.count(tbl); n != 8 {
		t.Fatalf("after commit: %d rows, want 8", n)
	}

	// Pipelined: COPY and a query in one batch.
	tx, err = conn.Begin(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	batch := &pgx.Batch{}
	batch.Queue(copySQL)
	batch.Queue("SELECT count(*) FROM " + tbl)
	br := tx.SendBatch(e.ctx, batch)
	tag, err := br.Exec()
	if err != nil || tag.RowsAffected() != 4 {
		t.Fatalf("batch COPY: %q %v", tag, err)
	}
	var n int
	if err := br.QueryRow().Scan(&n); err != nil || n != 12 {
		t.Fatalf("batch count = %d, %v", n, err)
	}
	if err := br.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(e.ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.count(tbl); n != 8 {
		t.Fatalf("after batch rollback: %d rows, want 8", n)
	}
}

func TestMultiStatementQuery(t *testing.T) {
	e := newEnv(t)
	tbl := e.table("id int, name text")
	e.put("multi/a.json", jsonLines(2))
	copySQL := e.copyJSON(tbl, "multi/")

	e.exec("BEGIN; " + copySQL + "; ROLLBACK")
	if n := e.count(tbl); n != 0 {
		t.Fatalf("after BEGIN;COPY;ROLLBACK: %d rows", n)
	}
	e.exec("BEGIN; /* Rin */ " + copySQL + "; SELECT 'a;b'; COMMIT;")
	if n := e.count(tbl); n != 2 {
		t.Fatalf("after BEGIN;COPY;COMMIT: %d rows", n)
	}
	// A failing COPY in the middle aborts the whole implicit transaction.
	e.srv.FailNextCopies(1, "XX000", "boom")
	_, err := e.db.ExecContext(e.ctx, "INSERT INTO "+tbl+" VALUES (99, 'x'); "+copySQL)
	if pqCode(err) != "XX000" {
		t.Fatalf("err = %v", err)
	}
	if n := e.count(tbl); n != 2 {
		t.Fatalf("after failed batch: %d rows, want 2", n)
	}
	if st := e.srv.Stats(); st.Copies != 2 || st.CopiesFailed != 1 {
		t.Fatalf("stats = %+v", st)
	}
}
