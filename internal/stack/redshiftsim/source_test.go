package redshiftsim

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// Which S3 objects a COPY reads, and how they are decoded.

func TestPrefixLoadsEveryMatchingKey(t *testing.T) {
	e := newEnv(t)
	tbl := e.table("id int, name text")
	e.put("a/1", []byte(`{"id":1,"name":"one"}`))
	e.put("a/10", []byte(`{"id":10,"name":"ten"}`))
	e.put("a/2", []byte(`{"id":2,"name":"two"}`))
	e.exec(e.copyJSON(tbl, "a/1"))
	if got := fmt.Sprint(e.rows(tbl)); got != "[[1 one] [10 ten]]" {
		t.Fatalf("prefix a/1 loaded %s, want a/1 and a/10", got)
	}
}

func TestManifestLoadsExactlyListedObjects(t *testing.T) {
	e := newEnv(t)
	tbl := e.table("id int, name text")
	e.put("a/1", []byte(`{"id":1,"name":"one"}`))
	e.put("a/10", []byte(`{"id":10,"name":"ten"}`))
	e.put("m/ok.manifest", []byte(fmt.Sprintf(`{"entries":[{"url":%q,"mandatory":true},{"url":%q,"mandatory":false}]}`,
		e.url("a/1"), e.url("a/missing"))))
	e.exec(fmt.Sprintf("COPY %s FROM '%s' JSON 'auto' MANIFEST%s", tbl, e.url("m/ok.manifest"), creds))
	if got := fmt.Sprint(e.rows(tbl)); got != "[[1 one]]" {
		t.Fatalf("manifest loaded %s, want only a/1", got)
	}

	e.put("m/bad.manifest", []byte(fmt.Sprintf(`{"entries":[{"url":%q,"mandatory":true},{"url":%q,"mandatory":true}]}`,
		e.url("a/1"), e.url("a/gone"))))
	_, err := e.db.ExecContext(e.ctx, fmt.Sprintf("COPY %s FROM '%s' JSON 'auto' MANIFEST%s", tbl, e.url("m/bad.manifest"), creds))
	if pqCode(err) != "XX000" || !strings.Contains(err.Error(), e.url("a/gone")) {
		t.Fatalf("missing mandatory entry: err = %v", err)
	}
	if n := e.count(tbl); n != 1 {
		t.Fatalf("failed manifest COPY loaded rows: %d", n)
	}
}

func TestMissingPrefixFails(t *testing.T) {
	e := newEnv(t)
	tbl := e.table("id int")
	_, err := e.db.ExecContext(e.ctx, e.copyJSON(tbl, "nothing/here"))
	if pqCode(err) != "XX000" || !strings.Contains(err.Error(), "The specified S3 prefix 'nothing/here' does not exist") {
		t.Fatalf("err = %v", err)
	}
	if st := e.srv.Stats(); st.CopiesFailed != 1 || st.Copies != 0 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestCompression(t *testing.T) {
	e := newEnv(t)
	plain := []byte("{\"id\":1,\"name\":\"a\"}\n{\"id\":2,\"name\":\"b\"}\n")

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(plain)
	_ = zw.Close()

	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	zs := enc.EncodeAll(plain, nil)
	_ = enc.Close()

	cases := map[string][]byte{"GZIP": gz.Bytes(), "ZSTD": zs}
	if path, err := exec.LookPath("bzip2"); err == nil {
		cmd := exec.Command(path, "-c")
		cmd.Stdin = bytes.NewReader(plain)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("bzip2: %v", err)
		}
		cases["BZIP2"] = out
	} else {
		t.Log("bzip2 binary not found; skipping the BZIP2 case")
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			tbl := e.table("id int, name text")
			key := "comp/" + strings.ToLower(name) + "/part"
			e.put(key, data)
			e.exec(fmt.Sprintf("COPY %s FROM '%s' JSON 'auto' %s%s", tbl, e.url(key), name, creds))
			if got := fmt.Sprint(e.rows(tbl)); got != "[[1 a] [2 b]]" {
				t.Fatalf("%s: %s", name, got)
			}
		})
	}
}

func TestJSONAuto(t *testing.T) {
	e := newEnv(t)
	data := []byte(`{"id":1,"Name":"upper","note":{"nested":[1,2]},"extra":true}{"id":2,"name":"lower"}
{"id":3}
`)
	e.put("json/a", data)

	tbl := e.table("id int, name text, note text")
	e.exec(e.copyJSON(tbl, "json/a"))
	want := `[[1 NULL {"nested":[1,2]}] [2 lower NULL] [3 NULL NULL]]`
	if got := fmt.Sprint(e.rows(tbl)); got != want {
		t.Fatalf("auto: %s\nwant %s", got, want)
	}

	tbl = e.table("id int, name text, note text")
	e.exec(fmt.Sprintf("COPY %s FROM '%s' JSON 'auto ignorecase'%s", tbl, e.url("json/a"), creds))
	want = `[[1 upper {"nested":[1,2]}] [2 lower NULL] [3 NULL NULL]]`
	if got := fmt.Sprint(e.rows(tbl)); got != want {
		t.Fatalf("auto ignorecase: %s\nwant %s", got, want)
	}

	// Column list: only the listed columns are loaded.
	tbl = e.table("id int, name text, note text default 'dflt'")
	e.exec(fmt.Sprintf("COPY %s (id, name) FROM '%s' JSON AS 'auto'%s", tbl, e.url("json/a"), creds))
	want = `[[1 NULL dflt] [2 lower dflt] [3 NULL dflt]]`
	if got := fmt.Sprint(e.rows(tbl)); got != want {
		t.Fatalf("column list: %s\nwant %s", got, want)
	}

	// Invalid JSON fails the COPY.
	e.put("json/bad", []byte(`{"id":1} [1,2]`))
	_, err := e.db.ExecContext(e.ctx, e.copyJSON(tbl, "json/bad"))
	if pqCode(err) != "XX000" {
		t.Fatalf("bad JSON: err = %v", err)
	}
}

func TestZeroRows(t *testing.T) {
	e := newEnv(t)
	e.put("empty/a.json", nil)
	e.put("empty/a.csv", []byte("id,name\n"))
	tbl := e.table("id int, name text")
	for _, c := range []string{
		e.copyJSON(tbl, "empty/a.json"),
		fmt.Sprintf("COPY %s FROM '%s' CSV IGNOREHEADER 1%s", tbl, e.url("empty/a.csv"), creds),
		fmt.Sprintf("COPY %s (name) FROM '%s' CSV IGNOREHEADER 1%s", tbl, e.url("empty/a.csv"), creds),
	} {
		res, err := e.db.ExecContext(e.ctx, c)
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		if n, _ := res.RowsAffected(); n != 0 {
			t.Fatalf("RowsAffected = %d", n)
		}
	}
}

func TestCSVAndText(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name, key, data, columns, options, want string
	}{
		{"CSV", "csv/a.csv", "id,name,note\n" +
			"1,\"hello, world\",\"line1\nline2\"\n" +
			"2,,\"\"\n" +
			"3,\"say \"\"hi\"\"\",NA\r\n",
			"id int, name text, note text", " CSV IGNOREHEADER 1 NULL AS 'NA'",
			"[[1 hello, world line1\nline2] [2 NULL ] [3 say \"hi\" NULL]]"},
		{"CSV QUOTE", "csv/q.csv", "1;%a;b%;x\n2;%50%%%;\n",
			"id int, name text, note text", " FORMAT AS CSV QUOTE AS '%' DELIMITER AS ';'",
			"[[1 a;b x] [2 50% NULL]]"},
		{"text", "txt/a.txt", "1|pipe|x\n2||\\N\n3|a,b|y\n",
			"id int, name text, note text", "",
			"[[1 pipe x] [2 NULL NULL] [3 a,b y]]"},
		{"tsv", "txt/b.tsv", "h1\th2\n1\tx\n2\tnil\n",
			"id int, name text", " DELIMITER '\\t' IGNOREHEADER AS 1 NULL AS 'nil'",
			"[[1 x] [2 NULL]]"},
	} {
		e.put(tc.key, []byte(tc.data))
		tbl := e.table(tc.columns)
		e.exec(fmt.Sprintf("COPY %s FROM '%s'%s%s", tbl, e.url(tc.key), tc.options, creds))
		if got := fmt.Sprint(e.rows(tbl)); got != tc.want {
			t.Fatalf("%s: %q\nwant %q", tc.name, got, tc.want)
		}
	}

	// IGNOREHEADER applies per file.
	e.put("hdr/1.csv", []byte("id\n1\n"))
	e.put("hdr/2.csv", []byte("id\n2\n"))
	tbl := e.table("id int")
	e.exec(fmt.Sprintf("COPY %s FROM '%s' CSV IGNOREHEADER 1%s", tbl, e.url("hdr/"), creds))
	if got := fmt.Sprint(e.rows(tbl)); got != "[[1] [2]]" {
		t.Fatalf("per-file header: %s", got)
	}

	// Wrong field count is a load error.
	e.put("bad/a.csv", []byte("1,2,3\n4\n"))
	_, err := e.db.ExecContext(e.ctx, fmt.Sprintf("COPY %s FROM '%s' CSV%s", tbl, e.url("bad/"), creds))
	if pqCode(err) != "XX000" {
		t.Fatalf("ragged CSV: err = %v", err)
	}
}

func TestCopyStatementErrors(t *testing.T) {
	e := newEnv(t)
	tbl := e.table("id int")
	e.put("x/a.json", []byte(`{"id":1}`))
	cases := []struct {
		sql, code, contains string
	}{
		{fmt.Sprintf("COPY %s FROM '%s' JSON 'auto' BOGUSOPTION%s", tbl, e.url("x/"), creds), "42601", "BOGUSOPTION"},
		{fmt.Sprintf("COPY %s FROM '%s' JSON 'auto'", tbl, e.url("x/")), "XX000", "credentials must be specified"},
		{fmt.Sprintf("COPY %s FROM '%s' JSON 'auto' CREDENTIALS", tbl, e.url("x/")), "42601", ""},
		{fmt.Sprintf("COPY %s FROM '/etc/passwd' CSV%s", tbl, creds), "XX000", "unsupported data source"},
	}
	for _, c := range cases {
		_, err := e.db.ExecContext(e.ctx, c.sql)
		if pqCode(err) != c.code || !strings.Contains(fmt.Sprint(err), c.contains) {
			t.Errorf("%s:\n err = %v, want %s containing %q", c.sql, err, c.code, c.contains)
		}
	}
	// Every option Redshift accepts but the simulator ignores.
	accepted := fmt.Sprintf("COPY %s FROM '%s' WITH CREDENTIALS AS 'aws_access_key_id=a;aws_secret_access_key=b' "+
		"REGION AS 'us-east-1' JSON 'auto' TIMEFORMAT 'auto' DATEFORMAT AS 'YYYY-MM-DD' TRUNCATECOLUMNS BLANKSASNULL "+
		"EMPTYASNULL MAXERROR 0 COMPUPDATE OFF STATUPDATE ON ACCEPTINVCHARS '?' FILLRECORD TRIMBLANKS EXPLICIT_IDS; ", tbl, e.url("x/"))
	if _, err := e.db.ExecContext(e.ctx, accepted); err != nil {
		t.Fatalf("accepted options: %v", err)
	}
	accepted = fmt.Sprintf("copy %s from '%s' access_key_id 'a' secret_access_key 'b' session_token 't' iam_role default json 'auto'", tbl, e.url("x/"))
	if _, err := e.db.ExecContext(e.ctx, accepted); err != nil {
		t.Fatalf("lower-case options: %v", err)
	}
	noload := fmt.Sprintf("COPY %s FROM '%s' JSON 'auto' NOLOAD ENCODING AS UTF8%s", tbl, e.url("x/"), creds)
	if _, err := e.db.ExecContext(e.ctx, noload); err != nil {
		t.Fatalf("NOLOAD: %v", err)
	}
	if n := e.count(tbl); n != 2 {
		t.Fatalf("rows = %d", n)
	}
}
