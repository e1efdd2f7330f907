package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rinhq/rin/internal/stack"
	"github.com/rinhq/rin/journal"
)

// TestRoutingAndMessageShapes runs an original-Rin-style config with every
// kind of target and every message shape, in -batch mode, with -debug (so
// the secret check covers debug logs too).
func TestRoutingAndMessageShapes(t *testing.T) {
	e := newEnv(t)
	for _, tbl := range []string{"foo", "bar", "csvtab", "both1", "both2", "unicode"} {
		e.table(tbl)
	}
	e.exec(fmt.Sprintf(`CREATE SCHEMA "%s_rx"`, e.schema))
	e.exec(fmt.Sprintf(`CREATE TABLE "%s_rx"."events" (src varchar(1024), n int, msg varchar(256))`, e.schema))
	targets := fmt.Sprintf(`  - s3: {key_prefix: discard/}
    discard: true
  - redshift: {table: foo}
    s3: {key_prefix: foo/}
  - redshift: {table: csvtab}
    s3: {key_prefix: csv/}
    sql_option: "CSV"
  - redshift: {schema: $1, table: $2}
    s3: {key_regexp: '^rx/([a-z0-9_]+)/([a-z]+)/'}
  - redshift: {table: both1}
    s3: {key_prefix: both/}
  - redshift: {table: both2}
    s3: {key_prefix: both/}
    break: true
  - redshift: {table: bar}
    s3: {key_prefix: both/}
  - redshift: {table: unicode}
    s3: {key_prefix: "u/"}
`)
	cfg := e.writeConfig("config.yaml", targets, "")

	// Several records per message, one of them duplicated.
	a := e.put("foo/a.json", object("foo/a.json", 3))
	b := e.put("foo/b.json", object("foo/b.json", 2))
	e.send(stack.S3EventBody(a, b, a))
	// The same event again: an SQS duplicate.
	e.send(stack.S3EventBody(a))
	// CSV target.
	csv := e.put("csv/1.csv", []byte("csv/1.csv,1,one\ncsv/1.csv,2,\"two, with comma\"\n"))
	e.send(stack.S3EventBody(csv))
	// Regexp target with $1/$2 naming schema and table.
	rxKey := "rx/" + e.schema + "_rx/events/1.json"
	e.send(stack.S3EventBody(e.put(rxKey, object(rxKey, 4))))
	// Two matching targets, then break: the third never gets it.
	e.send(stack.S3EventBody(e.put("both/1.json", object("both/1.json", 1))))
	// Discarded, and matching nothing.
	e.send(stack.S3EventBody(e.put("discard/x.json", object("discard/x.json", 1))))
	e.send(stack.S3EventBody(e.put("nomatch/x.json", object("nomatch/x.json", 1))))
	// SNS-wrapped, and EventBridge-shaped.
	e.send(stack.SNSWrap(stack.S3EventBody(e.put("foo/sns.json", object("foo/sns.json", 2))), "arn:aws:sns:us-east-1:123456789012:rin"))
	e.send(stack.EventBridgeBody(e.put("foo/eb.json", object("foo/eb.json", 2))))
	// s3:TestEvent, skipped and deleted.
	e.send(stack.TestEventBody(e.bucket))
	// Hostile keys: URL-encoded in events (space as +), unicode, a quote
	// and a semicolon. They are data: loaded, nothing else executed.
	hostile := []string{"u/a b+c.json", "u/日本語 ログ.json", "u/it's; DROP TABLE foo; --.json", `u/back\slash"dq.json`}
	for _, k := range hostile {
		e.send(stack.S3EventBody(e.put(k, object(k, 1))))
	}

	code, out := e.run(2*time.Minute, "-config", cfg, "-batch", "-debug")
	if code != 0 {
		t.Fatalf("rin -batch exited %d:\n%s", code, tail([]byte(out), 4000))
	}

	want := map[string]map[string]int{
		"foo":    {"foo/a.json": 3, "foo/b.json": 2, "foo/sns.json": 2, "foo/eb.json": 2},
		"both1":  {"both/1.json": 1},
		"both2":  {"both/1.json": 1},
		"bar":    {},
		"csvtab": {"csv/1.csv": 2},
	}
	want["unicode"] = map[string]int{}
	for _, k := range hostile {
		want["unicode"][k] = 1
	}
	for tbl, rows := range want {
		got := e.rowsBySource(tbl)
		if fmt.Sprint(got) != fmt.Sprint(rows) {
			t.Errorf("table %s: rows by object = %v, want %v", tbl, got, rows)
		}
	}
	if got := e.rowsIn(e.schema+"_rx", "events"); got[rxKey] != 4 || len(got) != 1 {
		t.Errorf("regexp target: rows = %v, want %s: 4", got, rxKey)
	}

	if !e.queueEmpty() {
		t.Error("queue not empty after -batch")
	}
	jobs := e.jobs()
	for s, js := range jobs {
		if s != journal.Acked {
			t.Errorf("%d jobs left %s: %+v", len(js), s, js[0])
		}
	}
	if n := len(jobs[journal.Acked]); n != 12 {
		t.Errorf("%d acked jobs, want 12", n)
	}
	if !e.logsContain("matches no target") {
		t.Error("no warning logged for the object matching no target")
	}
	e.assertNoSecrets()
}

// TestDryRunAndBadConfig: -dry-run prints the resolved targets without
// secrets; a broken config names the key and its line and exits non-zero.
func TestDryRunAndBadConfig(t *testing.T) {
	e := newEnv(t)
	cfg := e.writeConfig("config.yaml", "  - redshift: {schema: $1, table: $2}\n    s3: {key_regexp: '^logs/([a-z]+)/([a-z]+)/'}\n", "")
	code, out := e.run(time.Minute, "-config", cfg, "-dry-run")
	if code != 0 || !strings.Contains(out, "targets[0]") || !strings.Contains(out, "^logs/([a-z]+)/([a-z]+)/") {
		t.Fatalf("dry-run exited %d:\n%s", code, out)
	}
	e.assertNoSecrets()

	bad := e.writeConfig("bad.yaml", "  - redshift: {table: t}\n    s3: {key_prefix: x/, key_perfix: y/}\n", "")
	code, out = e.run(time.Minute, "-config", bad, "-batch")
	if code == 0 || !strings.Contains(out, "key_perfix") || !strings.Contains(out, "bad.yaml:20:") {
		t.Fatalf("bad config: exit %d, output:\n%s", code, out)
	}
	three := e.writeConfig("three.yaml", "  - redshift: {schema: $1, table: $3}\n    s3: {key_regexp: '^logs/([a-z]+)/([a-z]+)/'}\n", "")
	code, out = e.run(time.Minute, "-config", three, "-batch")
	if code == 0 || !strings.Contains(out, "$3") {
		t.Fatalf("$3 with two captures: exit %d, output:\n%s", code, out)
	}
}
