package redshift

import (
	"database/sql"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/rinhq/rin/config"
)

// TestSessions: doctor's Session answers the same over both drivers — a
// login, a parameterised query, a missing table reported as SQLSTATE
// 42P01 — and RolledBack leaves nothing of a statement that succeeded,
// while reporting one that failed.
func TestSessions(t *testing.T) {
	pqf := newFixture(t, "pw", nil)
	df := newDataFixture(t, config.Ledger{})
	for _, tc := range []struct {
		name string
		f    *fixture
		open func() Session
	}{
		{"postgres", pqf, func() Session { return OpenSession(pqf.ep, SessionAPIs{}) }},
		{"redshift-data", df.fixture, func() Session { return OpenSession(df.ep, SessionAPIs{DataAPI: df.copier.opts.Client}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.open()
			defer s.Close()
			ctx := t.Context()
			row, err := s.QueryRow(ctx, "SELECT current_user")
			if err != nil || len(row) != 1 || row[0] == "" {
				t.Fatalf("login: %q, %v", row, err)
			}
			table := pgx.Identifier{tc.f.schema, "t"}.Sanitize()
			row, err = s.QueryRow(ctx, "SELECT has_table_privilege("+s.Param(1)+", 'INSERT'), "+s.Param(2)+"::text", table, "x'y")
			if err != nil || len(row) != 2 || row[0] != "true" || row[1] != "x'y" {
				t.Fatalf("privilege: %q, %v; want [true x'y]", row, err)
			}
			missing := pgx.Identifier{tc.f.schema, "missing"}.Sanitize()
			_, err = s.QueryRow(ctx, "SELECT has_table_privilege("+s.Param(1)+", 'INSERT')", missing)
			if SQLState(err) != "42P01" {
				t.Errorf("missing table: SQLSTATE %q from %v, want 42P01", SQLState(err), err)
			}
			if _, err := s.QueryRow(ctx, "SELECT 1 WHERE false"); !errors.Is(err, sql.ErrNoRows) {
				t.Errorf("no row: %v, want sql.ErrNoRows", err)
			}

			if err := s.RolledBack(ctx, "INSERT INTO "+table+" (src, n) VALUES ('rolled back', 1)"); err != nil {
				t.Fatalf("RolledBack: %v", err)
			}
			if n := tc.f.rows(t); n != 0 {
				t.Errorf("RolledBack left %d rows", n)
			}
			err = s.RolledBack(ctx, "INSERT INTO "+missing+" (src) VALUES ('x')")
			if err == nil || SQLState(err) != "42P01" {
				t.Errorf("RolledBack of a failing statement: %v (SQLSTATE %q), want 42P01", err, SQLState(err))
			}
		})
	}
}
