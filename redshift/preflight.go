package redshift

import (
	"context"
	"database/sql"

	"github.com/rinhq/rin/config"
)

// What rin doctor needs of this package to check an endpoint the way the
// loader uses it: the same connections (temporary passwords included) and
// the same ledger names.

// OpenEndpoint opens a small pool to one endpoint, as the loader connects:
// with its password, else one from GetClusterCredentials (api). Close it.
func OpenEndpoint(r config.Redshift, api ClusterCredentialsAPI) *sql.DB {
	return openDB(r, api, 2)
}

// LedgerTable is the ledger table rin keeps for loads into schema.table:
// its schema and its (unquoted) name.
func LedgerTable(l config.Ledger, schema, table string) (ledgerSchema, ledgerTable string) {
	lg := ledger{schema: l.Schema, table: l.Table}
	return lg.schemaOrPublic(), lg.tableFor(schema, table)
}

// PutObject writes an object under the manifest prefix as the loader
// writes manifests: with the server-side encryption of the config's
// manifest section. An error says which permission is missing.
func PutObject(ctx context.Context, store ObjectStore, m config.Manifest, bucket, key string, body []byte) error {
	return putManifest(ctx, manifestWriter{store: store, sse: m}, bucket, key, body)
}

// ManifestKey is the key of batch batchID's manifest under prefix.
func ManifestKey(prefix, batchID string) string { return manifestKey(prefix, batchID) }
