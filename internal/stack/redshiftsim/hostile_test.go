package redshiftsim

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// S3 keys, data and error messages end up inside SQL the proxy generates;
// none of them may change its meaning.

func TestHostileInputLoadsAsData(t *testing.T) {
	e := newEnv(t)
	victim := e.table("id int")
	tbl := e.table("id int, name text")
	evil := `'); DROP TABLE ` + victim + `; --`
	weird := `back\slash $rinsim$ $$ "dq" E'\x27' ` + "\ttab\x01ctl é"
	key := `it's; DROP TABLE ` + victim + `; --/data.json`

	ev, _ := json.Marshal(evil)
	we, _ := json.Marshal(weird)
	e.put(key, []byte(fmt.Sprintf(`{"id":1,"name":%s}`+"\n"+`{"id":2,"name":%s}`, ev, we)))
	url := strings.ReplaceAll(e.url(key), "'", "''")
	e.exec(fmt.Sprintf("COPY %s FROM '%s' JSON 'auto'%s", tbl, url, creds))
	got := e.rows(tbl)
	if len(got) != 2 || got[0][1] != evil || got[1][1] != weird {
		t.Fatalf("JSON rows = %q", got)
	}

	csvTbl := e.table("id int, name text")
	csvKey := `csv/it's;--"x".csv`
	e.put(csvKey, []byte(fmt.Sprintf("1,\"%s\"\n2,%s\n", strings.ReplaceAll(evil, `"`, `""`), `a\'b$rinsim$`)))
	e.exec(fmt.Sprintf("COPY %s FROM '%s' CSV%s", csvTbl, strings.ReplaceAll(e.url(csvKey), "'", "''"), creds))
	got = e.rows(csvTbl)
	if len(got) != 2 || got[0][1] != evil || got[1][1] != `a\'b$rinsim$` {
		t.Fatalf("CSV rows = %q", got)
	}

	// An injected error message is data too.
	e.srv.FailNextCopies(1, "XX000", evil+" $rinsim$ END; $$")
	_, err := e.db.ExecContext(e.ctx, fmt.Sprintf("COPY %s FROM '%s' JSON 'auto'%s", tbl, url, creds))
	if pqCode(err) != "XX000" || !strings.Contains(err.Error(), evil+" $rinsim$ END; $$") {
		t.Fatalf("err = %v", err)
	}
	// The missing-prefix message quotes the key.
	_, err = e.db.ExecContext(e.ctx, fmt.Sprintf("COPY %s FROM '%s' JSON 'auto'%s", tbl, e.url("no'pe;")[0:len(e.url(""))]+"no''pe;", creds))
	if pqCode(err) != "XX000" || !strings.Contains(err.Error(), "'no'pe;'") {
		t.Fatalf("err = %v", err)
	}

	// Quoted identifiers with odd characters work as table and column names.
	e.exec(`CREATE TABLE "we""ird; tbl" ("Mixed Col" text)`)
	t.Cleanup(func() { _, _ = e.db.Exec(`DROP TABLE IF EXISTS "we""ird; tbl"`) })
	e.put("odd/a.csv", []byte("v\n"))
	e.exec(fmt.Sprintf(`COPY "we""ird; tbl" ("Mixed Col") FROM '%s' CSV%s`, e.url("odd/"), creds))
	var v string
	if err := e.db.QueryRowContext(e.ctx, `SELECT "Mixed Col" FROM "we""ird; tbl"`).Scan(&v); err != nil || v != "v" {
		t.Fatalf("odd identifiers: %q %v", v, err)
	}

	if n := e.count(victim); n != 0 {
		t.Fatalf("victim table changed")
	}
}
