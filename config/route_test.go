package config

import (
	"errors"
	"strings"
	"testing"
)

// The original Rin's config_test.go expectations (test/config.yml and
// test/config.yml.iam_role), reduced to what config decides: which target
// loads the object, into which table, with which option. "" = nothing.
var originalExpected = []struct {
	bucket, key, table, option string
}{
	{"test.bucket.test", "test/foo/xxx.json", `"foo"`, `JSON 'auto' GZIP`},
	{"test.bucket.test", "test/foo/discard/xxx.json", "", ""},
	{"test.bucket.test", "test/bar/break", `"xxx"."bar_break"`, `CSV DELIMITER ',' ESCAPE`},
	{"test.bucket.test", "test/bar/y's.csv", `"xxx"."bar"`, `CSV DELIMITER ',' ESCAPE`},
	{"example.bucket", "test/s1/t256/aaa.json", `"s1"."t256"`, `JSON 'auto' GZIP`},
}

func TestOriginalFixtures(t *testing.T) {
	for _, name := range []string{"config.yml", "config.yml.iam_role", "config.redshift-data.yml"} {
		t.Run(name, func(t *testing.T) {
			c, err := Parse(fixture(t, name), name, env(map[string]string{"AWS_SECRET_ACCESS_KEY": "SSS"}))
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Targets) != 5 {
				t.Fatalf("targets = %d, want 5", len(c.Targets))
			}
			for _, e := range originalExpected {
				routes := c.Route(e.bucket, e.key)
				// The original test keeps the SQL of the last loading target.
				table, option := "", ""
				for _, r := range routes {
					if r.Err != nil {
						t.Fatalf("%s: %v", e.key, r.Err)
					}
					if !r.Discard {
						table, option = quotedTable(r), r.SQLOption
					}
				}
				if table != e.table || option != e.option {
					t.Errorf("%s/%s: got %s %q, want %s %q", e.bucket, e.key, table, option, e.table, e.option)
				}
			}
			if name == "config.yml" {
				if c.Credentials.AWSSecretAccessKey != "SSS" {
					t.Errorf("must_env not applied: %q", c.Credentials.AWSSecretAccessKey)
				}
				for _, tg := range c.Targets {
					if !tg.Redshift.ReconnectOnError {
						t.Errorf("%s: reconnect_on_error must fall back to true", tg.Name())
					}
				}
			}
		})
	}
}

func TestReadmeFixture(t *testing.T) {
	c, err := Parse(fixture(t, "readme.yaml"), "readme.yaml", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	r := c.Route("test.bucket.test", "test/foo/1.json")
	if len(r) != 1 || quotedTable(r[0]) != `"public"."foo"` || r[0].Redshift.Host != "localhost" || r[0].Redshift.Password != "test_pass" {
		t.Fatalf("foo route: %+v", r)
	}
	r = c.Route("redshift.example.com", "logs/example/2024/01.csv")
	if len(r) != 1 {
		t.Fatalf("example routes: %+v", r)
	}
	got := r[0]
	if got.Redshift.Host != "redshift.example.com" || got.Redshift.User != "example_user" ||
		got.Redshift.DBName != "example" || got.SQLOption != "CSV DELIMITER ',' ESCAPE" ||
		got.S3.Region != "ap-northeast-1" || quotedTable(got) != `"public"."example"` {
		t.Errorf("override target: %+v", got)
	}
	if n := len(c.Route("test.bucket.test", "logs/example/x")); n != 0 {
		t.Errorf("bucket mismatch routed %d", n)
	}
	if eps := c.Endpoints(); len(eps) != 2 {
		t.Errorf("endpoints = %d, want 2", len(eps))
	}
}

func names(rs []Route) string {
	var s []string
	for _, r := range rs {
		n := r.Name
		if r.Discard {
			n += "(discard)"
		} else {
			n += "=" + quotedTable(r)
		}
		s = append(s, n)
	}
	return strings.Join(s, " ")
}

func TestRoute(t *testing.T) {
	c := mustParse(t, base+`
targets:
  - s3: {key_prefix: skip/}
    discard: true
  - redshift: {table: all}
    s3: {key_regexp: '^(logs|events)/'}
  - redshift: {schema: $1, table: t_$2}
    s3: {key_regexp: '^logs/([a-z]+)/([a-z]+)/'}
  - redshift: {table: '${1}0'}
    s3: {key_regexp: '^events/([a-z]+)/'}
    break: true
  - redshift: {table: never}
    s3: {key_prefix: events/}
  - redshift: {table: other}
    s3: {bucket: other, key_regexp: '^'}
  - redshift: {table: keyed_$0}
    s3: {bucket: other2, key_prefix: k}
`)
	tests := []struct {
		bucket, key, want string
	}{
		{"b", "skip/x", "targets[0](discard)"},
		{"b", "logs/app/web/1.gz", `targets[1]="all" targets[2]="app"."t_web"`},
		{"b", "logs/APP/web/1.gz", `targets[1]="all"`},
		{"b", "events/click/1", `targets[1]="all" targets[3]="click0"`},
		{"b", "nothing/1", ``},
		{"x", "logs/app/web/1", ``},
		{"other2", "kx", `targets[6]="keyed_kx"`},
	}
	for _, tt := range tests {
		if got := names(c.Route(tt.bucket, tt.key)); got != tt.want {
			t.Errorf("Route(%s, %s) = %s, want %s", tt.bucket, tt.key, got, tt.want)
		}
	}
	if r := c.Route("x", "y"); r == nil && len(r) != 0 {
		t.Error("unreachable")
	}
}

func TestRouteDollarSemantics(t *testing.T) {
	c := mustParse(t, base+`
targets:
  - redshift: {schema: 's_$1', table: '$12_${2}3_$$1_${10}_$x'}
    s3: {key_regexp: '^(a)/(b)/(c)/(d)/(e)/(f)/(g)/(h)/(i)/(j)/(\$2)$'}
`)
	r := c.Route("b", "a/b/c/d/e/f/g/h/i/j/$2")
	if len(r) != 1 || r[0].Err != nil {
		t.Fatalf("%+v", r)
	}
	// $12 is group 1 then "2" (as the original); ${2}3 is group 2 then "3";
	// $$1 is "$" then group 1; ${10} is group 10; $x is literal. The
	// capture "$2" (group 11) is data and not expanded again.
	if want := "a2_b3_$a_j_$x"; r[0].Table != want {
		t.Errorf("table = %q, want %q", r[0].Table, want)
	}
	if r[0].Schema != "s_a" || r[0].Redshift.Schema != "s_a" || r[0].Redshift.Table != r[0].Table {
		t.Errorf("schema = %q, Redshift = %+v", r[0].Schema, r[0].Redshift)
	}
}

func TestRouteIdentifierErrors(t *testing.T) {
	c := mustParse(t, base+`
targets:
  - redshift: {schema: $1, table: $2}
    s3: {key_regexp: '^([^/]*)/([^/]*)/?'}
    break: true
  - redshift: {table: fine}
    s3: {key_regexp: '^'}
`)
	long := strings.Repeat("x", 128)
	tests := []struct {
		key     string
		wantErr string
	}{
		{"s/t/1", ""},
		{`s"; drop table x;--/t/1`, ""}, // quotes are data, not an error
		{"/t/1", "schema"},
		{"s//1", "empty identifier"},
		{"s/" + long + "/1", "longer than"},
		{"s/a\x00b/1", "control character"},
		{"s/a\tb/1", "control character"},
		{"s/\xff/1", "UTF-8"},
	}
	for _, tt := range tests {
		rs := c.Route("b", tt.key)
		if len(rs) != 1 {
			t.Fatalf("%q: routes %d (break must stop after the first)", tt.key, len(rs))
		}
		err := rs[0].Err
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("%q: unexpected %v", tt.key, err)
			}
			continue
		}
		if !errors.Is(err, ErrIdentifier) || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "targets[0].redshift.") {
			t.Errorf("%q: err = %v, want ErrIdentifier mentioning %q", tt.key, err, tt.wantErr)
		}
	}
	q := c.Route("b", `s"x/t/1`)[0]
	if quotedTable(q) != `"s""x"."t"` {
		t.Errorf("QuotedTable = %s", quotedTable(q))
	}
}

func TestFallback(t *testing.T) {
	c := mustParse(t, `
queue_name: q
s3: {bucket: b, region: ap-northeast-1}
sql_option: "JSON 'auto'"
redshift:
  host: rs.example.com
  port: 5440
  dbname: db
  user: u
  password: p
  schema: top
  reconnect_on_error: true
  sslmode: disable
targets:
  - redshift: {table: t0}
    s3: {key_prefix: a/}
  - redshift: {host: other.example.com, table: t1, reconnect_on_error: false, sslmode: verify-full}
    s3: {key_prefix: b/, region: us-east-1}
    sql_option: CSV
  - s3: {bucket: c, key_prefix: c/}
    redshift: {driver: redshift-data, workgroup: wg, table: t2}
`)
	t0, t1, t2 := c.Targets[0], c.Targets[1], c.Targets[2]
	if t0.Redshift.Host != "rs.example.com" || t0.Redshift.Port != 5440 || t0.Redshift.Schema != "top" ||
		!t0.Redshift.ReconnectOnError || t0.Redshift.SSLMode != "disable" || t0.S3.Bucket != "b" ||
		t0.S3.Region != "ap-northeast-1" || t0.SQLOption != "JSON 'auto'" || t0.Redshift.Driver != DriverPostgres {
		t.Errorf("t0 = %+v", t0)
	}
	if t1.Redshift.Host != "other.example.com" || t1.Redshift.Password != "p" || t1.Redshift.ReconnectOnError ||
		t1.Redshift.SSLMode != "verify-full" || t1.S3.Region != "us-east-1" || t1.SQLOption != "CSV" {
		t.Errorf("t1 = %+v", t1)
	}
	if t2.Redshift.Driver != DriverRedshiftData || t2.Redshift.Workgroup != "wg" || t2.S3.Bucket != "c" {
		t.Errorf("t2 = %+v", t2)
	}
	if got, want := t0.Redshift.Endpoint(), "postgres://u@rs.example.com:5440/db"; got != want {
		t.Errorf("endpoint %s, want %s", got, want)
	}
	if got, want := t2.Redshift.Endpoint(), "redshift-data://u@workgroup(wg)/db"; got != want {
		t.Errorf("endpoint %s, want %s", got, want)
	}
	for _, tg := range c.Targets {
		if strings.Contains(tg.Redshift.Endpoint(), "p@") || strings.Contains(tg.Redshift.Endpoint(), ":p") {
			t.Errorf("endpoint leaks password: %s", tg.Redshift.Endpoint())
		}
	}
}

func TestDefaults(t *testing.T) {
	c := mustParse(t, base+`
targets:
  - redshift: {table: t}
    s3: {key_regexp: '^'}
`)
	r := c.Route("b", "anything")[0]
	if r.Redshift.Port != 5439 || r.Redshift.Driver != "postgres" || r.Redshift.SSLMode != "require" || r.Schema != "" {
		t.Errorf("redshift defaults: %+v", r.Redshift)
	}
	if r.Batch != (Batch{MaxFiles: 1000, MaxBytes: 1 << 30, MaxAge: DefaultBatchMaxAge, Concurrency: 4, CopyTimeout: DefaultCopyTimeout, LockTimeout: DefaultLockTimeout}) || !r.UseManifest {
		t.Errorf("batch defaults: %+v %v", r.Batch, r.UseManifest)
	}
	want := Config{
		Journal:  Journal{Path: "rin.journal.db", Retention: DefaultJournalRetention},
		Retry:    Retry{InitialInterval: DefaultRetryInitial, MaxInterval: DefaultRetryMax, Multiplier: 2, MaxAttempts: 3},
		Receive:  Receive{Receivers: 2, MaxMessages: 10, WaitTime: DefaultWaitTime, VisibilityTimeout: DefaultVisibility, MaxPending: 10000},
		Ledger:   Ledger{Schema: "public", Table: "rin_ledger", Retention: DefaultJournalRetention + SQSMaxRetention, PruneInterval: DefaultPruneInterval},
		Manifest: Manifest{Prefix: "_rin/manifests/"},
		Admin:    Admin{Socket: "rin.sock"},
	}
	if c.Journal != want.Journal || c.Retry != want.Retry || c.Receive != want.Receive ||
		c.Ledger != want.Ledger || c.Manifest != want.Manifest || c.Admin != want.Admin {
		t.Errorf("section defaults:\n%+v\n%+v\n%+v\n%+v\n%+v\n%+v", c.Journal, c.Retry, c.Receive, c.Ledger, c.Manifest, c.Admin)
	}
	c = mustParse(t, base+`
journal: {path: /var/lib/rin/journal.db}
targets: [{redshift: {table: t}, s3: {key_regexp: '^'}}]
`)
	if c.Admin.Socket != "/var/lib/rin/journal.sock" {
		t.Errorf("socket = %s", c.Admin.Socket)
	}
	// PGSSLMODE is the default when sslmode is unset.
	c = mustParse(t, base+`targets: [{redshift: {table: t}, s3: {key_regexp: '^'}}]`, env(map[string]string{"PGSSLMODE": "disable"}))
	if c.Targets[0].Redshift.SSLMode != "disable" {
		t.Errorf("PGSSLMODE not applied: %s", c.Targets[0].Redshift.SSLMode)
	}
}

func TestPerTargetBatchAndManifest(t *testing.T) {
	c := mustParse(t, base+`
batch: {max_files: 50, max_age: 10s, concurrency: 2}
targets:
  - redshift: {table: a}
    s3: {key_prefix: a/}
    batch: {max_files: 5}
  - redshift: {table: b}
    s3: {key_prefix: b/}
  - redshift: {table: m}
    s3: {key_prefix: m/}
    sql_option: "JSON 'auto' MANIFEST"
  - redshift: {table: q}
    s3: {key_prefix: q/}
    sql_option: "DELIMITER 'manifest'"
`)
	a := c.Route("b", "a/1")[0]
	if a.Batch != (Batch{MaxFiles: 5, MaxBytes: 1 << 30, MaxAge: Duration(10e9), Concurrency: 2, CopyTimeout: DefaultCopyTimeout, LockTimeout: DefaultLockTimeout}) {
		t.Errorf("a batch %+v", a.Batch)
	}
	if b := c.Route("b", "b/1")[0]; b.Batch.MaxFiles != 50 || b.Batch.Concurrency != 2 {
		t.Errorf("b batch %+v", b.Batch)
	}
	if m := c.Route("b", "m/1")[0]; m.UseManifest || m.Batch.MaxFiles != 1 {
		t.Errorf("MANIFEST in sql_option: %+v", m)
	}
	if q := c.Route("b", "q/1")[0]; !q.UseManifest {
		t.Errorf("'manifest' inside a literal is not the keyword: %+v", q)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "targets[2]") {
		t.Errorf("warnings %q", c.Warnings)
	}
	if rs := c.Route("b", "_rin/manifests/x.json"); len(rs) != 0 {
		t.Errorf("manifest key routed: %+v", rs)
	}

	c = mustParse(t, base+`
manifest: {disabled: true}
targets: [{redshift: {table: t}, s3: {key_regexp: '^'}}]
`)
	r := c.Route("b", "_rin/manifests/x")
	if len(r) != 1 || r[0].UseManifest || r[0].Batch.MaxFiles != 1 {
		t.Errorf("manifest disabled: %+v", r)
	}
}

func TestMatcherFallback(t *testing.T) {
	c := mustParse(t, `
queue_name: q
redshift: {host: h}
s3:
  bucket: b
  key_prefix: top/
targets:
  - redshift: {table: inherits}
  - redshift: {table: own_regexp_$1}
    s3: {key_regexp: '^r/(x)'}
  - redshift: {table: both}
    s3: {key_prefix: both/, key_regexp: '^never'}
`)
	if got := names(c.Route("b", "top/1")); got != `targets[0]="inherits"` {
		t.Errorf("inherit: %s", got)
	}
	if got := names(c.Route("b", "r/x")); got != `targets[1]="own_regexp_x"` {
		t.Errorf("own regexp: %s", got)
	}
	if got := names(c.Route("b", "both/1")); got != `targets[2]="both"` {
		t.Errorf("prefix wins: %s", got)
	}
	if len(c.Warnings) != 2 {
		t.Errorf("warnings: %q", c.Warnings)
	}
}

func TestRouteConcurrent(t *testing.T) {
	c := mustParse(t, base+`targets: [{redshift: {schema: $1, table: $2}, s3: {key_regexp: '^(\w+)/(\w+)/'}}]`)
	done := make(chan bool)
	for i := 0; i < 8; i++ {
		go func() {
			for j := 0; j < 200; j++ {
				if r := c.Route("b", "s/t/x"); len(r) != 1 || r[0].Table != "t" {
					t.Error("bad route")
				}
			}
			done <- true
		}()
	}
	for i := 0; i < 8; i++ {
		<-done
	}
}

// yaml.v2 (which the original decoded with) took YAML 1.1 booleans; rin
// must too.
func TestYAML11Booleans(t *testing.T) {
	c := mustParse(t, base+`
targets:
  - redshift: {table: t, reconnect_on_error: yes}
    s3: {key_prefix: a/}
    break: on
  - s3: {key_prefix: b/}
    discard: True
`)
	if !c.Targets[0].Redshift.ReconnectOnError || !c.Targets[0].Break || !c.Targets[1].Discard {
		t.Errorf("%+v", c.Targets)
	}
}

// quotedTable is "schema"."table" (or "table"), a compact way to assert both.
func quotedTable(r Route) string {
	q := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
	if r.Schema == "" {
		return q(r.Table)
	}
	return q(r.Schema) + "." + q(r.Table)
}
