package config

import (
	"strings"
	"testing"
)

func TestRedaction(t *testing.T) {
	c := mustParse(t, `
queue_name: q
credentials:
  aws_access_key_id: AKIAIOSFODNN7EXAMPLE
  aws_secret_access_key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
  aws_iam_role: arn:aws:iam::123456789012:role/rin
redshift: {host: h, user: u, password: hunter2-top, table: t}
s3: {bucket: b, key_prefix: p/}
sql_option: "ENCRYPTED MASTER_SYMMETRIC_KEY 'c2VjcmV0LWtleQ==' GZIP"
targets:
  - redshift: {password: hunter2-target}
  - redshift: {table: t2, password: ''}
    s3: {key_prefix: q/}
    sql_option: "CREDENTIALS 'aws_access_key_id=AKIAIOSFODNN7EXAMPLE;aws_secret_access_key=inline-secret;token=sess-token'"
`)
	out := c.String()
	for _, secret := range []string{"wJalrXUtnFEMI", "hunter2", "c2VjcmV0LWtleQ", "inline-secret", "sess-token", "IOSFODNN7"} {
		if strings.Contains(out, secret) {
			t.Errorf("String() leaks %q:\n%s", secret, out)
		}
	}
	for _, kept := range []string{"AKIA************MPLE", "arn:aws:iam::123456789012:role/rin", "queue_name: q", "retention: 7d"} {
		if !strings.Contains(out, kept) {
			t.Errorf("String() lacks %q:\n%s", kept, out)
		}
	}
	// Redacted is a copy: the original is untouched.
	if c.Redshift.Password != "hunter2-top" || c.Targets[0].Redshift.Password != "hunter2-target" {
		t.Error("Redacted modified the config")
	}
	if r := c.Redacted(); r.Targets[1].Redshift.Password != "********" {
		// target 1 inherits the top-level password (fallback), masked
		t.Errorf("inherited password: %q", r.Targets[1].Redshift.Password)
	}
}

func TestRedactSQL(t *testing.T) {
	tests := []struct{ in, want string }{
		{`/* Rin */ COPY "t" FROM 's3://b/k' CREDENTIALS 'aws_access_key_id=AKIAIOSFODNN7EXAMPLE;aws_secret_access_key=SSS' REGION 'r' GZIP`,
			`/* Rin */ COPY "t" FROM 's3://b/k' CREDENTIALS 'aws_access_key_id=AKIA************MPLE;aws_secret_access_key=********' REGION 'r' GZIP`},
		{`COPY t FROM 's3://b/k' CREDENTIALS 'aws_iam_role=arn:aws:iam::1:role/r'`,
			`COPY t FROM 's3://b/k' CREDENTIALS 'aws_iam_role=arn:aws:iam::1:role/r'`},
		{`COPY t FROM 'x' ACCESS_KEY_ID 'AKIAIOSFODNN7EXAMPLE' SECRET_ACCESS_KEY 'abc''def' SESSION_TOKEN 'tok'`,
			`COPY t FROM 'x' ACCESS_KEY_ID 'AKIA************MPLE' SECRET_ACCESS_KEY '********' SESSION_TOKEN '********'`},
		{`CREDENTIALS 'aws_access_key_id=A;aws_secret_access_key=B;token=C'`,
			`CREDENTIALS 'aws_access_key_id=********;aws_secret_access_key=********;token=********'`},
		{`JSON 'auto' GZIP`, `JSON 'auto' GZIP`},
	}
	for _, tt := range tests {
		if got := RedactSQL(tt.in); got != tt.want {
			t.Errorf("RedactSQL(%s)\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}
