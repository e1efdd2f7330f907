package redshift

import (
	"errors"
	"strings"
	"testing"

	"github.com/lib/pq"
	"github.com/rinhq/rin/fsm"
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

func TestClassify(t *testing.T) {
	cases := []struct {
		err                  error
		permanent, badObject bool
	}{
		{&pq.Error{Code: "25006", Message: "cannot execute COPY in a read-only transaction"}, false, false},
		{&pq.Error{Code: "57P01", Message: "terminating connection"}, false, false},
		{&pq.Error{Code: "40001", Message: "serializable isolation violation"}, false, false},
		{&pq.Error{Code: "42P01", Message: `relation "x" does not exist`}, true, false},
		{&pq.Error{Code: "42501", Message: "permission denied"}, true, false},
		{&pq.Error{Code: "22P02", Message: "invalid input syntax for type integer"}, true, true},
		{&pq.Error{Code: "XX000", Message: "Load into table 'x' failed. Check 'stl_load_errors' system table for details."}, true, true},
		{&pq.Error{Code: "XX000", Message: "Manifest file is not in correct json format"}, true, true},
		{&pq.Error{Code: "XX000", Message: "S3ServiceException:Access Denied"}, true, false},
		{&pq.Error{Code: "XX000", Message: "Assert"}, false, false},
		{errors.New("dial tcp 127.0.0.1:5439: connect: connection refused"), false, false},
	}
	for _, c := range cases {
		got := classify(c.err)
		if fsm.IsPermanent(got) != c.permanent || errors.Is(got, fsm.ErrBadObject) != c.badObject {
			t.Errorf("classify(%v) = %v: permanent %v bad object %v; want %v %v", c.err, got,
				fsm.IsPermanent(got), errors.Is(got, fsm.ErrBadObject), c.permanent, c.badObject)
		}
	}
}

func TestDSNQuotesValues(t *testing.T) {
	d := dsn(configRedshift("h", 5439, "db", "u", ""), "u", `p'a\ss word`)
	if !strings.Contains(d, `password='p\'a\\ss word'`) || !strings.Contains(d, "sslmode='disable'") {
		t.Fatalf("dsn = %s", d)
	}
}
