package redshiftsim

import (
	"strings"
	"testing"
)

// Redshift's CREATE TABLE clauses are accepted, and a sort key becomes an
// index, in both protocols; IF NOT EXISTS stays idempotent.
func TestRedshiftDDL(t *testing.T) {
	e := newEnv(t)
	name := e.table("x int") + "_ddl"
	create := `CREATE TABLE IF NOT EXISTS "public".` + quoteIdent(name) + ` (
	job_id   VARCHAR(64) NOT NULL ENCODE RAW,
	at       TIMESTAMP ENCODE AZ64,
	n        BIGINT DEFAULT 0 ENCODE zstd DISTKEY
) DISTSTYLE KEY DISTKEY (job_id) COMPOUND SORTKEY (job_id, at) BACKUP NO`
	e.exec(create, create) // twice: the second is a no-op
	var idx string
	if err := e.db.QueryRowContext(e.ctx, `SELECT indexdef FROM pg_indexes WHERE tablename = $1`, name).Scan(&idx); err != nil {
		t.Fatalf("no index for the sort key: %v", err)
	}
	if !strings.Contains(idx, "(job_id, at)") {
		t.Fatalf("index %q; want one on (job_id, at)", idx)
	}
	e.exec(`INSERT INTO "public".` + quoteIdent(name) + ` (job_id) VALUES ('a')`)

	// Column attribute SORTKEY, SORTKEY AUTO, DISTSTYLE AUTO; through a
	// prepared statement (extended protocol).
	other := name + "_2"
	stmt, err := e.db.PrepareContext(e.ctx, `CREATE TABLE `+quoteIdent(other)+` (id INT SORTKEY ENCODE az64, s VARCHAR(10) ENCODE lzo) DISTSTYLE AUTO`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stmt.ExecContext(e.ctx); err != nil {
		t.Fatalf("prepared CREATE: %v", err)
	}
	stmt.Close()
	if err := e.db.QueryRowContext(e.ctx, `SELECT indexdef FROM pg_indexes WHERE tablename = $1`, other).Scan(&idx); err != nil || !strings.Contains(idx, "(id)") {
		t.Fatalf("column SORTKEY: index %q, %v", idx, err)
	}
	e.exec(`CREATE TABLE ` + quoteIdent(other+"_3") + ` (id INT) SORTKEY AUTO`)
}

func TestRewriteDDLKeepsQuotedText(t *testing.T) {
	sql := `CREATE TABLE "a ENCODE b" (c VARCHAR(10) DEFAULT 'SORTKEY (x)' ENCODE zstd) SORTKEY (c)`
	got := rewriteDDLQuery(sql)
	want := `DO $rinsim_ddl$ BEGIN CREATE TABLE "a ENCODE b" (c VARCHAR(10) DEFAULT 'SORTKEY (x)' ) ; CREATE INDEX ON "a ENCODE b" ("c"); END $rinsim_ddl$`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
