package redshift

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/redshiftdata"
	"github.com/lib/pq"

	"github.com/rinhq/rin/config"
)

// What rin doctor needs of this package to check an endpoint the way the
// loader uses it: the same connections (temporary passwords included) or
// the same Data API calls, and the same ledger names.

// OpenEndpoint opens a small pool to one endpoint, as the loader connects:
// with its password, else one from GetClusterCredentials (api). Close it.
func OpenEndpoint(r config.Redshift, api ClusterCredentialsAPI) *sql.DB {
	return openDB(r, api, 2)
}

// Session runs doctor's statements on one endpoint through the driver the
// loader uses for it: a small lib/pq pool (driver postgres), or the Data
// API calls of the DataAPICopier (driver redshift-data).
type Session interface {
	// QueryRow runs a read-only statement whose parameters are strings,
	// written Param(1), Param(2), ..., and returns its first row's columns
	// as text ("" for NULL, "true"/"false" for booleans). No row is
	// sql.ErrNoRows.
	QueryRow(ctx context.Context, sql string, args ...string) ([]string, error)
	// Param is the placeholder of the i-th parameter (from 1).
	Param(i int) string
	// RolledBack runs one statement inside a transaction and rolls the
	// transaction back: nothing it did stays. The error is the
	// statement's.
	RolledBack(ctx context.Context, sql string) error
	Close() error
}

// SessionAPIs are the AWS clients a Session may need: GetClusterCredentials
// for a postgres endpoint without a password, the Data API for a
// redshift-data one.
type SessionAPIs struct {
	ClusterCredentials ClusterCredentialsAPI
	DataAPI            DataAPI
	Logger             *slog.Logger
}

// OpenSession opens a Session on endpoint r with its driver. It connects
// lazily: the first statement says whether the login works.
func OpenSession(r config.Redshift, apis SessionAPIs) Session {
	if r.Driver == config.DriverRedshiftData {
		c := NewDataAPI(DataAPIOptions{
			Endpoints: map[string]config.Redshift{r.Endpoint(): r},
			Client:    apis.DataAPI, Logger: apis.Logger,
		})
		return &dataSession{c: c, db: dataTarget(r)}
	}
	return pqSession{db: OpenEndpoint(r, apis.ClusterCredentials)}
}

// pqSession is a Session on a lib/pq pool.
type pqSession struct{ db *sql.DB }

func (s pqSession) Param(i int) string { return pqLedger{}.param(i) }

func (s pqSession) QueryRow(ctx context.Context, q string, args ...string) ([]string, error) {
	return firstRow(func(row func([]string) error) error { return queryStrings(ctx, s.db, q, args, row) })
}

func (s pqSession) RolledBack(ctx context.Context, q string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, q)
	return err
}

func (s pqSession) Close() error { return s.db.Close() }

// dataSession is a Session on the Data API, through a DataAPICopier's
// statement calls (ExecuteStatement, BatchExecuteStatement, the polling).
type dataSession struct {
	c  *DataAPICopier
	db target
}

func (s *dataSession) Param(i int) string { return dataLedger{}.param(i) }

func (s *dataSession) QueryRow(ctx context.Context, q string, args ...string) ([]string, error) {
	return firstRow(func(row func([]string) error) error { return s.c.queryStrings(ctx, s.db, q, args, row) })
}

// rollbackSQL ends a doctor's batch: it fails, and with it the batch's one
// transaction, which the Data API then rolls back (as the loader's ledger
// guard does).
const rollbackSQL = "SELECT 1/0 AS rin_doctor_rollback"

// RolledBack runs q and a statement that fails in one
// BatchExecuteStatement, which is one transaction: the Data API has no
// interactive transaction to roll back. Only q failing is an error.
func (s *dataSession) RolledBack(ctx context.Context, q string) error {
	out, err := s.c.opts.Client.BatchExecuteStatement(ctx, &redshiftdata.BatchExecuteStatementInput{
		Sqls: []string{q, rollbackSQL}, Database: aws.String(s.db.database), ClusterIdentifier: optional(s.db.cluster),
		DbUser: optional(s.db.user), WorkgroupName: optional(s.db.workgroup), StatementName: aws.String("rin doctor"),
	})
	if err != nil {
		return fmt.Errorf("BatchExecuteStatement: %w", err)
	}
	_, err = s.c.wait(ctx, aws.ToString(out.Id), []string{"statement", "rollback"}, 1)
	var se *statementError
	switch {
	case err == nil:
		return fmt.Errorf("Data API statement %s: %q did not fail, so the batch may have committed", aws.ToString(out.Id), rollbackSQL)
	case errors.As(err, &se) && se.guard():
		return nil // the statement passed; the rollback statement ended the transaction
	}
	return err
}

func (s *dataSession) Close() error { return s.c.Close() }

// firstRow returns the first row query hands over.
func firstRow(query func(row func([]string) error) error) ([]string, error) {
	var first []string
	err := query(func(cols []string) error {
		if first == nil {
			first = append([]string{}, cols...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if first == nil {
		return nil, sql.ErrNoRows
	}
	return first, nil
}

// SQLState is the SQLSTATE of a failed statement: lib/pq's code, or for
// the Data API, which reports only the database's message, the code that
// message goes with for the few doctor tells apart ("" when unknown).
func SQLState(err error) string {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return string(pe.Code)
	}
	var se *statementError
	if !errors.As(err, &se) {
		return ""
	}
	msg := strings.ToLower(se.message)
	switch {
	case strings.Contains(msg, "permission denied"):
		return "42501"
	case strings.Contains(msg, "password authentication failed"):
		return "28P01"
	case strings.Contains(msg, "database") && strings.Contains(msg, "does not exist"):
		return "3D000"
	case strings.Contains(msg, "schema") && strings.Contains(msg, "does not exist"):
		return "3F000"
	case strings.Contains(msg, "relation") && strings.Contains(msg, "does not exist"):
		return "42P01"
	}
	return ""
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
