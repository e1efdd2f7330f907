package redshift

import "github.com/rinhq/rin/config"

// CopySpec describes a COPY as rin builds it, for the commands that show
// or try one outside a load (-dry-run, rin doctor): they print and send
// the statement the loader would, from the same code.
type CopySpec struct {
	Schema, Table string // unquoted; Schema "" leaves the table unqualified
	From          string // s3:// URI of the object, or of the manifest
	Region        string // COPY's REGION ("" none; never sent for Parquet or ORC)
	Manifest      bool
	SQLOption     string
}

func (s CopySpec) statement(creds string) copyStatement {
	return copyStatement{
		table: tableName(s.Schema, s.Table), from: s.From, creds: creds,
		region: s.Region, manifest: s.Manifest, sqlOption: s.SQLOption,
	}
}

// Redacted is the statement with its credentials (and any secret in the
// sql_option) masked: safe to print and log.
func (s CopySpec) Redacted() string { return s.statement("[REDACTED]").Redacted() }

// SQL is the statement to send with creds as its CREDENTIALS value. It
// holds a secret: never print or log it.
func (s CopySpec) SQL(creds string) string { return s.statement(creds).SQL() }

// ManifestURI is where the manifest of batch batchID of objects in bucket
// is written (manifest.bucket, else the objects' bucket).
func ManifestURI(m config.Manifest, bucket, batchID string) string {
	if m.Bucket != "" {
		bucket = m.Bucket
	}
	return "s3://" + bucket + "/" + manifestKey(m.Prefix, batchID)
}

// QuoteTable is the quoted, schema-qualified table name as COPY names it.
func QuoteTable(schema, table string) string { return tableName(schema, table) }
