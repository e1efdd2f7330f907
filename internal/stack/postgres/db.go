package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// CreateDatabase creates database name and returns a DSN for it. Tests use
// it to isolate their data on a shared server; it fails if name exists.
func (p *Server) CreateDatabase(ctx context.Context, name string) (string, error) {
	if err := p.exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("create database %q: %w", name, err)
	}
	return p.DatabaseDSN(name), nil
}

// EnsureDatabase is CreateDatabase that accepts an existing database.
func (p *Server) EnsureDatabase(ctx context.Context, name string) (string, error) {
	err := p.exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if err != nil && !(errors.As(err, &pgErr) && pgErr.Code == "42P04") { // duplicate_database
		return "", fmt.Errorf("create database %q: %w", name, err)
	}
	return p.DatabaseDSN(name), nil
}

// DropDatabase drops database name, disconnecting its sessions.
func (p *Server) DropDatabase(ctx context.Context, name string) error {
	if err := p.exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %q: %w", name, err)
	}
	return nil
}

// DatabaseDSN returns DSN() with the database replaced by name.
func (p *Server) DatabaseDSN(name string) string {
	u, err := url.Parse(p.dsn)
	if err != nil { // DSN() is always a URL we built or validated
		return p.dsn
	}
	u.Path = "/" + strings.TrimPrefix(name, "/")
	u.RawPath = ""
	return u.String()
}

func (p *Server) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, p.dsn)
	if err != nil {
		return fmt.Errorf("connect %s: %w", RedactDSN(p.dsn), err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, sql)
	return err
}
