package redshift

import (
	"strings"

	"github.com/rinhq/rin/config"
)

// copyStatement is a COPY with its secret kept apart, so the statement can
// be logged with the credentials masked.
type copyStatement struct {
	table     string // quoted
	from      string // s3:// URI
	creds     string // the CREDENTIALS value; secret
	region    string
	manifest  bool
	sqlOption string
}

// SQL is the statement sent to Redshift.
func (c copyStatement) SQL() string { return c.build(c.creds) }

// Redacted is the statement for logs: the credentials clause is masked,
// and so is any secret the sql_option itself carries (an encryption key,
// say).
func (c copyStatement) Redacted() string { return config.RedactSQL(c.build("[REDACTED]")) }

func (c copyStatement) build(creds string) string {
	var b strings.Builder
	b.WriteString("/* Rin */ COPY ")
	b.WriteString(c.table)
	b.WriteString(" FROM ")
	b.WriteString(quoteLiteral(c.from))
	if creds != "" {
		b.WriteString(" CREDENTIALS ")
		if creds == "[REDACTED]" {
			b.WriteString("'[REDACTED]'")
		} else {
			b.WriteString(quoteLiteral(creds))
		}
	}
	// Redshift refuses REGION for Parquet and ORC ("REGION argument is not
	// supported for PARQUET based COPY"): their bucket must be in the
	// cluster's region.
	if c.region != "" && config.ColumnarFormat(c.sqlOption) == "" {
		b.WriteString(" REGION ")
		b.WriteString(quoteLiteral(c.region))
	}
	if c.manifest {
		b.WriteString(" MANIFEST")
	}
	if o := strings.TrimSpace(c.sqlOption); o != "" {
		b.WriteString(" ")
		b.WriteString(o)
	}
	return b.String()
}
