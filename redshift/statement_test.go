package redshift

import (
	"strings"
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
