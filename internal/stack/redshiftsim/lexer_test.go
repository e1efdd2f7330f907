package redshiftsim

import (
	"reflect"
	"testing"
)

// The splitter decides what the backend executes; these cases pin the
// quoting rules it must respect. No database needed.

func TestSplitStatements(t *testing.T) {
	cases := map[string][]string{
		"BEGIN; COPY t FROM 's3://b/k'; COMMIT":               {"BEGIN", " COPY t FROM 's3://b/k'", " COMMIT"},
		"SELECT 'a;b'; SELECT \"x;y\"":                        {"SELECT 'a;b'", " SELECT \"x;y\""},
		"SELECT 'it''s;'; SELECT 1":                           {"SELECT 'it''s;'", " SELECT 1"},
		"SELECT E'\\';'; SELECT 2":                            {"SELECT E'\\';'", " SELECT 2"},
		"SELECT $$;$$; SELECT $tag$ $$; $tag$; SELECT 3":      {"SELECT $$;$$", " SELECT $tag$ $$; $tag$", " SELECT 3"},
		"SELECT 1 -- ; comment\n; SELECT /* ; /* ; */ ; */ 2": {"SELECT 1 -- ; comment\n", " SELECT /* ; /* ; */ ; */ 2"},
		"SELECT $1; SELECT a$b":                               {"SELECT $1", " SELECT a$b"},
		"SELECT 'unterminated; SELECT 2":                      {"SELECT 'unterminated; SELECT 2"},
	}
	for in, want := range cases {
		var got []string
		for _, s := range splitStatements(in) {
			if len(s.toks) > 0 {
				got = append(got, s.text)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("split(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		sql    string
		isCopy bool
		write  bool
	}{
		{"/* Rin */ COPY s.t FROM 's3://b/k' IAM_ROLE default", true, true},
		{"copy t (a, \"B\") from 's3://b/k' json 'auto';", true, true},
		{"COPY t FROM STDIN", false, true},
		{"COPY t TO STDOUT", false, false},
		{"SELECT 'COPY t FROM ''s3://x'''", false, false},
		{"INSERT INTO t VALUES (1)", false, true},
		{"WITH x AS (SELECT 1) UPDATE t SET a = 1", false, true},
		{"SELECT 1", false, false},
		{"BEGIN", false, false},
	}
	for _, c := range cases {
		info := classifySingle(c.sql)
		if info.isCopy != c.isCopy || info.write != c.write {
			t.Errorf("classify(%q) = copy %v write %v", c.sql, info.isCopy, info.write)
		}
	}
	info := classifySingle(`COPY "My"."Tbl" (a, "B") FROM 's3://b/k' GZIP CSV QUOTE AS '''' IAM_ROLE default`)
	if info.copyErr != nil {
		t.Fatal(info.copyErr)
	}
	s := info.copy
	if !reflect.DeepEqual(s.table, []string{"My", "Tbl"}) || !reflect.DeepEqual(s.columns, []string{"a", "B"}) ||
		s.compression != "gzip" || s.format != formatCSV || s.quote != '\'' || s.delimiter != "," || !s.hasCredentials {
		t.Fatalf("spec = %+v", s)
	}
}

func TestQuoteLiteral(t *testing.T) {
	got := quoteLiteral("a'b\\c$d\ne\x00")
	want := `E'a\'b\\c\x24d\x0ae'`
	if got != want {
		t.Fatalf("quoteLiteral = %s, want %s", got, want)
	}
	if q := quoteIdent(`we"ird`); q != `"we""ird"` {
		t.Fatalf("quoteIdent = %s", q)
	}
}
