package redshiftsim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Each injected fault must look to the client like the Redshift failure it
// models.

func TestFailNextCopies(t *testing.T) {
	e := newEnv(t)
	tbl := e.table("id int, name text")
	e.put("f/a.json", jsonLines(1))
	copySQL := e.copyJSON(tbl, "f/")

	e.srv.FailNextCopies(2, "XX000", "S3ServiceException: slow down")
	for i := range 2 {
		_, err := e.db.ExecContext(e.ctx, copySQL)
		if pqCode(err) != "XX000" || !strings.Contains(err.Error(), "slow down") {
			t.Fatalf("copy %d: err = %v", i, err)
		}
	}
	if _, err := e.db.ExecContext(e.ctx, copySQL); err != nil {
		t.Fatalf("third copy: %v", err)
	}

	// The failure aborts the client's transaction like a real one.
	e.srv.FailNextCopies(1, "40001", "serializable isolation violation")
	tx, err := e.db.BeginTx(e.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(e.ctx, "INSERT INTO "+tbl+" VALUES (50, 'in tx')"); err != nil {
		t.Fatal(err)
	}
	_, err = tx.ExecContext(e.ctx, copySQL)
	if pqCode(err) != "40001" {
		t.Fatalf("err = %v", err)
	}
	_, err = tx.ExecContext(e.ctx, "SELECT 1")
	if pqCode(err) != "25P02" {
		t.Fatalf("statement after failed COPY: err = %v, want 25P02", err)
	}
	_ = tx.Rollback()
	if n := e.count(tbl); n != 1 {
		t.Fatalf("rows = %d, want 1", n)
	}

	// Extended protocol: the fault applies when the prepared COPY runs.
	stmt, err := e.db.PrepareContext(e.ctx, "/* Rin */ "+copySQL)
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	e.srv.FailNextCopies(1, "XX000", "prepared boom")
	if _, err := stmt.ExecContext(e.ctx); pqCode(err) != "XX000" {
		t.Fatalf("prepared: err = %v", err)
	}
	if _, err := stmt.ExecContext(e.ctx); err != nil {
		t.Fatalf("prepared after fault: %v", err)
	}
	st := e.srv.Stats()
	if st.Copies != 2 || st.CopiesFailed != 4 || st.RowsLoaded != 2 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestReadOnly(t *testing.T) {
	e := newEnv(t)
	tbl := e.table("id int, name text")
	e.put("ro/a.json", jsonLines(1))
	copySQL := e.copyJSON(tbl, "ro/")

	conn := e.pgxConn()
	// Prepared before the resize starts: must still be refused during it.
	if _, err := conn.Prepare(e.ctx, "ins", "INSERT INTO "+tbl+" VALUES ($1, $2)"); err != nil {
		t.Fatal(err)
	}

	e.srv.SetReadOnly(true)
	for _, s := range []string{
		copySQL,
		"INSERT INTO " + tbl + " VALUES (1, 'x')",
		"UPDATE " + tbl + " SET name = 'y'",
		"DELETE FROM " + tbl,
		"CREATE TABLE ro_new (id int)",
		"DROP TABLE " + tbl,
		"TRUNCATE " + tbl,
		"/* hint */ LOCK TABLE " + tbl,
		"WITH d AS (DELETE FROM " + tbl + " RETURNING id) SELECT count(*) FROM d",
	} {
		_, err := e.db.ExecContext(e.ctx, s)
		if pqCode(err) != "25006" || !strings.Contains(err.Error(), "read-only transaction") {
			t.Errorf("%s: err = %v, want 25006", s, err)
		}
	}
	if _, err := conn.Exec(e.ctx, "ins", 7, "p"); !isPgCode(err, "25006") {
		t.Errorf("prepared INSERT: err = %v, want 25006", err)
	}
	if _, err := e.db.ExecContext(e.ctx, "BEGIN; SELECT count(*) FROM "+tbl+"; SET statement_timeout = 0; SHOW server_version; COMMIT"); err != nil {
		t.Fatalf("reads during read-only: %v", err)
	}
	if n := e.count(tbl); n != 0 {
		t.Fatalf("rows = %d", n)
	}

	e.srv.SetReadOnly(false)
	e.exec(copySQL)
	if _, err := conn.Exec(e.ctx, "ins", 7, "p"); err != nil {
		t.Fatalf("prepared INSERT after read-only: %v", err)
	}
	if n := e.count(tbl); n != 2 {
		t.Fatalf("rows = %d, want 2", n)
	}
}

func isPgCode(err error, code string) bool {
	pe, ok := err.(*pgconn.PgError)
	return ok && pe.Code == code
}

func TestCopyLatency(t *testing.T) {
	e := newEnv(t)
	tbl := e.table("id int, name text")
	e.put("lat/a.json", jsonLines(1))
	e.srv.SetCopyLatency(300 * time.Millisecond)
	start := time.Now()
	e.exec(e.copyJSON(tbl, "lat/"))
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("COPY took %v, want >= 300ms", d)
	}
	e.srv.SetCopyLatency(0)
	start = time.Now()
	e.exec("SELECT 1")
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Fatalf("plain query took %v", d)
	}
}

func TestDropAfterCommit(t *testing.T) {
	e := newEnv(t)
	tbl := e.table("id int, name text")
	e.put("drop/a.json", jsonLines(3))
	copySQL := e.copyJSON(tbl, "drop/")

	e.srv.DropAfterNextCommits(1)
	tx, err := e.db.BeginTx(e.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(e.ctx, copySQL); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err == nil {
		t.Fatal("COMMIT succeeded, want a connection error")
	} else {
		t.Logf("client saw: %v", err)
	}
	if n := e.count(tbl); n != 3 {
		t.Fatalf("rows = %d, want 3 (the commit happened)", n)
	}
	// A multi-statement COPY+COMMIT through DB.Exec: the reset is a network
	// error, not driver.ErrBadConn, so database/sql must not re-run it.
	e.srv.DropAfterNextCommits(1)
	if _, err := e.db.ExecContext(e.ctx, "BEGIN; "+copySQL+"; COMMIT"); err == nil {
		t.Fatal("multi-statement COMMIT succeeded, want a connection error")
	}
	if n := e.count(tbl); n != 6 {
		t.Fatalf("rows = %d, want 6 (committed once, not retried)", n)
	}
	// Only the next n commits are dropped.
	e.exec("BEGIN; " + copySQL + "; COMMIT")
	if n := e.count(tbl); n != 9 {
		t.Fatalf("rows = %d, want 9", n)
	}
	if st := e.srv.Stats(); st.CommitsDropped != 2 || st.Copies != 3 || st.RowsLoaded != 9 || st.Connections < 3 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestControlHandler(t *testing.T) {
	e := newEnv(t)
	hs := httptest.NewServer(e.srv.ControlHandler())
	defer hs.Close()
	post := func(path string, q url.Values) {
		t.Helper()
		resp, err := http.Post(hs.URL+path+"?"+q.Encode(), "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST %s: %s", path, resp.Status)
		}
	}
	post("/faults/fail-copies", url.Values{"n": {"3"}, "sqlstate": {"XX000"}, "message": {"over http"}})
	post("/faults/read-only", url.Values{"on": {"1"}})
	post("/faults/latency", url.Values{"d": {"200ms"}})
	post("/faults/drop-commits", url.Values{"n": {"2"}})
	f := e.srv.Faults()
	if f.FailCopies != 3 || f.FailMessage != "over http" || !f.ReadOnly || f.CopyLatency != "200ms" || f.DropCommits != 2 {
		t.Fatalf("faults = %+v", f)
	}
	resp, err := http.Post(hs.URL+"/faults/latency?d=nonsense", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad duration: %s", resp.Status)
	}
	post("/faults/reset", nil)
	if f := e.srv.Faults(); f.FailCopies != 0 || f.ReadOnly || f.DropCommits != 0 {
		t.Fatalf("after reset: %+v", f)
	}

	e.exec("SELECT 1")
	resp, err = http.Get(hs.URL + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	if st.Connections < 1 {
		t.Fatalf("stats over http = %+v", st)
	}
}
