package stack

import (
	"context"

	"github.com/rinhq/rin/internal/stack/postgres"
)

// The stack's PostgreSQL lives in package postgres (a leaf, so the Redshift
// simulator's tests can start one too); these names keep the stack's API.
type (
	// Postgres is a running PostgreSQL server (postgres.Server).
	Postgres = postgres.Server
	// PostgresOptions configures StartPostgres (postgres.Options).
	PostgresOptions = postgres.Options
)

// ErrNoPostgres means no PostgreSQL server binaries were found
// (postgres.ErrNoPostgres). Tests skip on it locally and fail on it in CI.
var ErrNoPostgres = postgres.ErrNoPostgres

// StartPostgres starts a throwaway cluster, or attaches to
// RIN_TEST_POSTGRES_DSN (postgres.Start).
func StartPostgres(ctx context.Context, opts PostgresOptions) (*Postgres, error) {
	return postgres.Start(ctx, opts)
}

// CheckPostgres reports why PostgreSQL cannot be started here, if it cannot
// (postgres.Check).
func CheckPostgres() error { return postgres.Check() }
