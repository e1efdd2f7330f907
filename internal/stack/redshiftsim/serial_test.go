package redshiftsim

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"
)

// Serializable mode: what Redshift refuses, the simulator refuses, and
// what Redshift lets commit, the simulator lets commit.

func serializable(c *Config) { c.Serializable = true }

// tx begins a transaction on a connection of its own.
func (e *env) tx() *sql.Tx {
	e.t.Helper()
	tx, err := e.db.BeginTx(e.ctx, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = tx.Rollback() })
	return tx
}

func (e *env) in(tx *sql.Tx, sqls ...string) {
	e.t.Helper()
	for _, s := range sqls {
		if _, err := tx.ExecContext(e.ctx, s); err != nil {
			e.t.Fatalf("%s: %v", s, err)
		}
	}
}

// is1023 reports Redshift's serializable isolation violation as libpq
// shows it.
func is1023(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && pe.Code == "XX000" && pe.Message == "1023" &&
		strings.HasPrefix(pe.Detail, "Serializable isolation violation on table - ")
}

// Two concurrent transactions that each read a table the other writes: the
// second COMMIT fails with 1023 and its rows are gone; the session is out
// of any transaction and usable.
func TestSerializableCycleAborts(t *testing.T) {
	e := newEnv(t, serializable)
	a, b := e.table("n int"), e.table("n int")
	t1, t2 := e.tx(), e.tx()
	e.in(t1, "SELECT count(*) FROM "+quoteIdent(a))
	e.in(t2, "SELECT count(*) FROM "+quoteIdent(b))
	e.in(t1, "INSERT INTO "+quoteIdent(b)+" VALUES (1)")
	e.in(t2, "INSERT INTO "+quoteIdent(a)+" VALUES (2)")
	if err := t1.Commit(); err != nil {
		t.Fatalf("first commit: %v", err)
	}
	err := t2.Commit()
	if !is1023(err) {
		t.Fatalf("second commit = %v; want 1023", err)
	}
	if e.count(a) != 0 || e.count(b) != 1 {
		t.Fatalf("rows a=%d b=%d; want 0 and 1", e.count(a), e.count(b))
	}
	if st := e.srv.Stats(); st.SerializationAborts != 1 {
		t.Fatalf("stats %+v", st)
	}
	// The connection of the refused COMMIT is idle again: a new
	// transaction on the pool works.
	t3 := e.tx()
	e.in(t3, "INSERT INTO "+quoteIdent(a)+" VALUES (3)")
	if err := t3.Commit(); err != nil {
		t.Fatal(err)
	}
}

// The guard that works on PostgreSQL only: read the ledger, then write it,
// without a lock. Under READ COMMITTED both loaders see "absent" and both
// commit; under Redshift's rules the second fails.
func TestSerializableCatchesUnlockedCheckThenInsert(t *testing.T) {
	for _, on := range []bool{false, true} {
		e := newEnv(t, func(c *Config) { c.Serializable = on })
		ledger := e.table("job_id varchar(64)")
		t1, t2 := e.tx(), e.tx()
		for _, tx := range []*sql.Tx{t1, t2} {
			e.in(tx, "SELECT job_id FROM "+quoteIdent(ledger)+" WHERE job_id = 'j'")
		}
		for _, tx := range []*sql.Tx{t1, t2} {
			e.in(tx, "INSERT INTO "+quoteIdent(ledger)+" VALUES ('j')")
		}
		err1, err2 := t1.Commit(), t2.Commit()
		if err1 != nil {
			t.Fatal(err1)
		}
		if on && !is1023(err2) {
			t.Fatalf("serializable: second commit = %v; want 1023", err2)
		}
		if !on && (err2 != nil || e.count(ledger) != 2) {
			t.Fatalf("PostgreSQL's isolation: %v, %d rows; want both committed (the bug the mode catches)", err2, e.count(ledger))
		}
	}
}

// LOCK first, then read and write: the second transaction waits for the
// first, its snapshot then sees the first's rows, and both commit.
func TestSerializableLockSerializes(t *testing.T) {
	e := newEnv(t, serializable)
	ledger := e.table("job_id varchar(64)")
	t1, t2 := e.tx(), e.tx()
	e.in(t1, "LOCK "+quoteIdent(ledger), "SELECT job_id FROM "+quoteIdent(ledger), "INSERT INTO "+quoteIdent(ledger)+" VALUES ('a')")
	locked := make(chan error, 1)
	go func() {
		_, err := t2.ExecContext(e.ctx, "LOCK "+quoteIdent(ledger))
		locked <- err
	}()
	select {
	case err := <-locked:
		t.Fatalf("second LOCK did not wait: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	if err := t1.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-locked; err != nil {
		t.Fatal(err)
	}
	var n int
	if err := t2.QueryRowContext(e.ctx, "SELECT count(*) FROM "+quoteIdent(ledger)).Scan(&n); err != nil || n != 1 {
		t.Fatalf("second sees %d rows, %v; want the first's row", n, err)
	}
	e.in(t2, "INSERT INTO "+quoteIdent(ledger)+" VALUES ('b')")
	if err := t2.Commit(); err != nil {
		t.Fatalf("second commit after the lock: %v", err)
	}
}

// What Redshift lets run side by side: transactions on disjoint tables,
// and pure writes (INSERT, COPY) into one table.
func TestSerializableAllowsDisjointAndPureWrites(t *testing.T) {
	e := newEnv(t, serializable)
	a, b, c := e.table("n int"), e.table("n int"), e.table("n int")
	t1, t2 := e.tx(), e.tx()
	e.in(t1, "SELECT count(*) FROM "+quoteIdent(a), "INSERT INTO "+quoteIdent(a)+" VALUES (1)", "INSERT INTO "+quoteIdent(c)+" VALUES (1)")
	e.in(t2, "SELECT count(*) FROM "+quoteIdent(b), "INSERT INTO "+quoteIdent(b)+" VALUES (1)", "INSERT INTO "+quoteIdent(c)+" VALUES (2)")
	if err := t1.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := t2.Commit(); err != nil {
		t.Fatalf("disjoint reads, common pure writes: %v", err)
	}
	if e.count(c) != 2 {
		t.Fatalf("c holds %d rows", e.count(c))
	}
}

// DELETE reads its table: two prunes of one table without a lock conflict.
func TestSerializableDeleteReads(t *testing.T) {
	e := newEnv(t, serializable)
	a := e.table("n int")
	e.exec("INSERT INTO " + quoteIdent(a) + " VALUES (1), (2)")
	t1, t2 := e.tx(), e.tx()
	e.in(t1, "DELETE FROM "+quoteIdent(a)+" WHERE n = 1")
	e.in(t2, "DELETE FROM "+quoteIdent(a)+" WHERE n = 2")
	if err := t1.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := t2.Commit(); !is1023(err) {
		t.Fatalf("second DELETE's commit = %v; want 1023", err)
	}
}

// The mode can be switched at run time and shows in the fault state.
func TestSerializableSwitch(t *testing.T) {
	e := newEnv(t)
	if e.srv.Faults().Serializable {
		t.Fatal("on by default in a bare simulator")
	}
	e.srv.SetSerializable(true)
	if !e.srv.Faults().Serializable {
		t.Fatal("not reported")
	}
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	e.ctx = ctx
	a := e.table("n int")
	t1, t2 := e.tx(), e.tx()
	for _, tx := range []*sql.Tx{t1, t2} {
		e.in(tx, "SELECT count(*) FROM "+quoteIdent(a), "INSERT INTO "+quoteIdent(a)+" VALUES (1)")
	}
	if err := t1.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := t2.Commit(); !is1023(err) {
		t.Fatalf("switched on: %v", err)
	}
}

func TestAccessOf(t *testing.T) {
	for _, tc := range []struct {
		sql           string
		reads, writes string
	}{
		{`SELECT job_id FROM "s"."L" WHERE job_id IN ($1)`, "s.L", ""},
		{`INSERT INTO s.l (a) VALUES ($1)`, "", "s.l"},
		{`INSERT INTO t SELECT * FROM u JOIN v ON u.a = v.a`, "u v", "t"},
		{`DELETE FROM ledger WHERE loaded_at < $1`, "ledger", "ledger"},
		{`UPDATE a SET n = 1 FROM b, c AS x WHERE a.n = b.n`, "a b c", "a"},
		{`SELECT count(*) FROM information_schema.tables, pg_catalog.pg_class, stl_load_errors`, "", ""},
		{`SELECT * FROM generate_series(1, 3)`, "", ""},
		{`SELECT * FROM (SELECT 1) q`, "", ""},
		{`LOCK "s"."l"`, "", ""},
		{`/* Rin */ COPY "s"."t" FROM 's3://b/k' IAM_ROLE 'arn:aws:iam::1:role/r' JSON 'auto'`, "", "s.t"},
		{`SELECT * FROM ONLY a, b`, "a b", ""},
	} {
		segs := splitStatements(tc.sql)
		info := classify(segs[0].toks)
		names := func(refs []tableRef) string {
			var out []string
			for _, r := range refs {
				out = append(out, r.String())
			}
			return strings.Join(out, " ")
		}
		if got := names(info.access.reads); got != tc.reads {
			t.Errorf("%s: reads %q, want %q", tc.sql, got, tc.reads)
		}
		if got := names(info.access.writes); got != tc.writes {
			t.Errorf("%s: writes %q, want %q", tc.sql, got, tc.writes)
		}
	}
}
