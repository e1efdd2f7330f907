package redshift

import (
	"strings"

	"github.com/rinhq/rin/journal"
	"testing"
)

func TestCopyStatementQuotesKeysAndNames(t *testing.T) {
	s := copyStatement{
		table:  tableName(`sch"ema`, `ta"ble; DROP TABLE x`),
		from:   `s3://b/it's; DROP TABLE x; --\.json`,
		creds:  "aws_access_key_id=AKIA;aws_secret_access_key=SECRET",
		region: "us-east-1", manifest: true, sqlOption: "JSON 'auto' GZIP",
	}
	want := `/* Rin */ COPY "sch""ema"."ta""ble; DROP TABLE x" FROM 's3://b/it''s; DROP TABLE x; --\\.json' CREDENTIALS 'aws_access_key_id=AKIA;aws_secret_access_key=SECRET' REGION 'us-east-1' MANIFEST JSON 'auto' GZIP`
	if got := s.SQL(); got != want {
		t.Fatalf("SQL:\n got %s\nwant %s", got, want)
	}
	if r := s.Redacted(); strings.Contains(r, "SECRET") || strings.Contains(r, "AKIA") || !strings.Contains(r, "CREDENTIALS '[REDACTED]'") {
		t.Fatalf("redacted statement leaks or lost the clause: %s", r)
	}
	s.sqlOption = "ENCRYPTED MASTER_SYMMETRIC_KEY 'SYMKEYSECRET' GZIP"
	if r := s.Redacted(); strings.Contains(r, "SYMKEYSECRET") {
		t.Fatalf("redacted statement leaks a secret of the sql_option: %s", r)
	}
	if got := tableName("", "t"); got != `"t"` {
		t.Fatalf("unqualified table = %s", got)
	}
}

func TestDSNQuotesValues(t *testing.T) {
	d := dsn(configRedshift("h", 5439, "db", "u", ""), "u", `p'a\ss word`)
	if !strings.Contains(d, `password='p\'a\\ss word'`) || !strings.Contains(d, "sslmode='disable'") {
		t.Fatalf("dsn = %s", d)
	}
}

// Parquet and ORC: never REGION (Redshift refuses it), and every manifest
// entry carries the object's size.
func TestColumnarStatementAndManifest(t *testing.T) {
	s := copyStatement{table: `"t"`, from: "s3://b/m", creds: "c", region: "eu-west-1", manifest: true, sqlOption: "FORMAT AS PARQUET"}
	if got := s.SQL(); strings.Contains(got, "REGION") || !strings.HasSuffix(got, "MANIFEST FORMAT AS PARQUET") {
		t.Fatalf("parquet COPY: %s", got)
	}
	s.sqlOption = "JSON 'auto'"
	if !strings.Contains(s.SQL(), "REGION 'eu-west-1'") {
		t.Fatalf("JSON COPY lost its REGION: %s", s.SQL())
	}
	jobs := []journal.Job{{Bucket: "b", Key: "a.parquet", Size: 1234}, {Bucket: "b", Key: "c'd.parquet", Size: 7}}
	if got := string(manifestBody(jobs, true)); got != `{"entries":[{"url":"s3://b/a.parquet","mandatory":true,"meta":{"content_length":1234}},{"url":"s3://b/c'd.parquet","mandatory":true,"meta":{"content_length":7}}]}`+"\n" {
		t.Fatalf("columnar manifest: %s", got)
	}
	if got := string(manifestBody(jobs[:1], false)); strings.Contains(got, "meta") {
		t.Fatalf("JSON manifest with meta: %s", got)
	}
}
