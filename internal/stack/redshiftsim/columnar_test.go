package redshiftsim

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// Redshift's rules for columnar COPYs, each with its text.

func TestColumnarRefusedOptions(t *testing.T) {
	e := newEnv(t)
	tbl := e.table(pqColumns)
	e.put("opt/a.parquet", pqFiles(t)[0])
	for _, tc := range []struct{ options, want string }{
		{"FORMAT AS PARQUET REGION 'us-east-1'", "REGION argument is not supported for PARQUET based COPY"},
		{"REGION AS 'eu-west-1' FORMAT AS ORC", "REGION argument is not supported for ORC based COPY"},
		{"FORMAT AS PARQUET MAXERROR 10", "MAXERROR argument is not supported for PARQUET based COPY"},
		{"FORMAT AS PARQUET GZIP", "GZIP argument is not supported for PARQUET based COPY"},
		{"FORMAT PARQUET IGNOREHEADER 1", "IGNOREHEADER argument is not supported for PARQUET based COPY"},
		{"FORMAT AS PARQUET ACCEPTANYDATE", "ACCEPTANYDATE argument is not supported for PARQUET based COPY"},
		{"FORMAT AS PARQUET TRUNCATECOLUMNS", "TRUNCATECOLUMNS argument is not supported for PARQUET based COPY"},
		{"FORMAT AS PARQUET TIMEFORMAT 'auto'", "TIMEFORMAT argument is not supported for PARQUET based COPY"},
		{"FORMAT AS PARQUET NOLOAD", "NOLOAD argument is not supported for PARQUET based COPY"},
		{"FORMAT AS PARQUET FORMAT AS JSON 'auto'", "JSON argument is not supported for PARQUET based COPY"},
		{"FORMAT AS ORC", "redshiftsim: FORMAT AS ORC is not simulated"},
	} {
		_, err := e.db.ExecContext(e.ctx, fmt.Sprintf("COPY %s FROM '%s' %s%s", tbl, e.url("opt/"), tc.options, creds))
		if pe := pqError(t, err); pe.Code != "0A000" || pe.Message != tc.want || pe.Detail != "" {
			t.Errorf("%s: got %s %q detail %q, want 0A000 %q", tc.options, pe.Code, pe.Message, pe.Detail, tc.want)
		}
	}
	if n := e.count(tbl); n != 0 {
		t.Fatalf("%d rows loaded by refused COPYs", n)
	}
}

// wantSpectrumError checks Redshift's form of a Spectrum failure: XX000,
// the error as the message, and the DETAIL block with the COPY's query id.
func wantSpectrumError(t *testing.T, err error, message string, code int, context, location, process string) {
	t.Helper()
	pe := pqError(t, err)
	re := regexp.MustCompile("^" + regexp.QuoteMeta("\n"+
		"  -----------------------------------------------\n"+
		"  error:  "+message+"\n"+
		fmt.Sprintf("  code:      %d\n", code)+
		"  context:   "+context+"\n"+
		"  query:     ") + `\d+` + regexp.QuoteMeta("\n"+
		"  location:  "+location+"\n"+
		"  process:   "+process+" [pid=") + `\d+` + regexp.QuoteMeta("]\n"+
		"  -----------------------------------------------\n") + "$")
	if pe.Code != "XX000" || pe.Message != message || !re.MatchString(pe.Detail) || pe.Where != "" {
		t.Fatalf("got %s %q where %q detail\n%s\nwant XX000 %q detail %s", pe.Code, pe.Message, pe.Where, pe.Detail, message, re)
	}
}

func TestColumnarManifestNeedsContentLength(t *testing.T) {
	e := newEnv(t)
	tbl := e.table(pqColumns)
	f := pqFiles(t)[0]
	e.put("m/a.parquet", f)
	e.put("m/b.parquet", f)
	keys, sizes := []string{"m/a.parquet", "m/b.parquet"}, []int{len(f), len(f)}
	run := func(meta map[string]string) error {
		e.put("m.manifest", e.sizedManifest(keys, sizes, meta))
		_, err := e.db.ExecContext(e.ctx, fmt.Sprintf("COPY %s FROM '%s' MANIFEST FORMAT AS PARQUET%s", tbl, e.url("m.manifest"), creds))
		return err
	}
	name := "https://s3.us-east-1.amazonaws.com/" + e.bucket + "/m/b.parquet"

	wantSpectrumError(t, run(map[string]string{"m/b.parquet": ""}),
		"File entry does not have 'meta' key.", 15003, "", "spectrum_manifest.cpp:204", "padbmaster")
	wantSpectrumError(t, run(map[string]string{"m/b.parquet": `,"meta":{}`}),
		"File entry does not have 'content_length' key in 'meta'.", 15003, "", "spectrum_manifest.cpp:204", "padbmaster")
	wantSpectrumError(t, run(map[string]string{"m/b.parquet": fmt.Sprintf(`,"meta":{"content_length":%d}`, len(f)+1)}),
		"Spectrum Scan Error", 15001, "HTTP response error code: 416 Message: InvalidRange The requested range is not satisfiable, File name: "+name,
		"dory_util.cpp:1450", "worker_thread")
	wantSpectrumError(t, run(map[string]string{"m/b.parquet": fmt.Sprintf(`,"meta":{"content_length":%d}`, len(f)-1)}),
		"Spectrum Scan Error", 15001, fmt.Sprintf("File '%s' has an invalid Parquet footer at content_length %d (the object has %d bytes)", name, len(f)-1, len(f)),
		"dory_util.cpp:1450", "worker_thread")
	if n := e.count(tbl); n != 0 {
		t.Fatalf("%d rows loaded by failed COPYs", n)
	}
	if err := run(nil); err != nil {
		t.Fatalf("sizes right: %v", err)
	}
	// JSON manifests still need no meta.
	e.put("m/c.json", []byte(`{"id":1}`))
	e.put("j.manifest", e.sizedManifest([]string{"m/c.json"}, nil, map[string]string{"m/c.json": ""}))
	e.exec(fmt.Sprintf("COPY %s FROM '%s' MANIFEST JSON 'auto'%s", tbl, e.url("j.manifest"), creds))
	if n := e.count(tbl); n != 7 {
		t.Fatalf("%d rows, want 3+3+1", n)
	}
}

func TestColumnarColumnCountMustMatch(t *testing.T) {
	e := newEnv(t)
	key := `cc/it's a "key" $x=1.parquet`
	name := "https://s3.us-east-1.amazonaws.com/" + e.bucket + "/cc/it%27s%20a%20%22key%22%20%24x%3D1.parquet"
	e.put(key, pqFiles(t)[0])
	from := strings.ReplaceAll(e.url("cc/"), "'", "''")
	for _, tc := range []struct {
		columns, list, options string
		table                  int
	}{
		{columns: pqColumns + ", extra int", table: 7},
		{columns: "id int, big bigint, name varchar(64), score double precision, ok boolean", table: 5},
		{columns: "id int, big bigint, name varchar(64), score double precision, ok boolean", options: " FILLRECORD", table: 5},
		{columns: pqColumns + ", extra int", list: " (id, big, name)", table: 3},
	} {
		tbl := e.table(tc.columns)
		_, err := e.db.ExecContext(e.ctx, fmt.Sprintf("COPY %s%s FROM '%s' FORMAT AS PARQUET%s%s", tbl, tc.list, from, tc.options, creds))
		wantSpectrumError(t, err, "Spectrum Scan Error", 15007,
			fmt.Sprintf("Unmatched number of columns between table and file. Table columns: %d, Data columns: 6, File name: %s", tc.table, name),
			"dory_util.cpp:1450", "worker_thread")
	}
}

func TestColumnarNotParquet(t *testing.T) {
	e := newEnv(t)
	tbl := e.table(pqColumns)
	e.put("np/a.json", []byte(`{"id":1}`))
	_, err := e.db.ExecContext(e.ctx, fmt.Sprintf("COPY %s FROM '%s' FORMAT AS PARQUET%s", tbl, e.url("np/"), creds))
	pe := pqError(t, err)
	want := "  context:   File 'https://s3.us-east-1.amazonaws.com/" + e.bucket + "/np/a.json' is not a valid Parquet file: "
	if pe.Code != "XX000" || pe.Message != "Spectrum Scan Error" || !strings.Contains(pe.Detail, want) {
		t.Fatalf("got %s %q detail %q, want XX000 Spectrum Scan Error with %q", pe.Code, pe.Message, pe.Detail, want)
	}
}
