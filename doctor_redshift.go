package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	rsapi "github.com/aws/aws-sdk-go-v2/service/redshift"
	"github.com/lib/pq"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/redshift"
)

// endpointDBs are the pools of the endpoints whose login passed.
type endpointDBs map[string]*sql.DB

func (m endpointDBs) close() {
	for _, db := range m {
		db.Close()
	}
}

// checkLogins logs in to each endpoint as the loader does (its password,
// or a temporary one from GetClusterCredentials).
func (d *doctor) checkLogins(ctx context.Context) endpointDBs {
	dbs := endpointDBs{}
	api := rsapi.NewFromConfig(d.aws)
	for _, r := range d.cfg.Endpoints() {
		ep := r.Endpoint()
		if r.Driver == config.DriverRedshiftData {
			d.r.skip("login", ep, "the redshift-data driver (Data API): doctor checks logins, tables and COPY over the postgres driver only")
			continue
		}
		db := redshift.OpenEndpoint(r, api)
		var user string
		err := d.bounded(ctx, func(ctx context.Context) error {
			return db.QueryRowContext(ctx, "SELECT current_user").Scan(&user)
		})
		if err != nil {
			db.Close()
			d.r.fail("login", ep, err.Error(), loginFix(r, err))
			continue
		}
		dbs[ep] = db
		d.r.ok("login", ep, "connected as "+user)
	}
	return dbs
}

func loginFix(r config.Redshift, err error) string {
	var pe *pq.Error
	switch {
	case strings.Contains(err.Error(), "GetClusterCredentials"):
		return "the password is empty, so rin asks GetClusterCredentials: grant redshift:GetClusterCredentials on the cluster's dbuser and dbname (the cluster id is the host's first label, or redshift.cluster)"
	case errors.As(err, &pe) && strings.HasPrefix(string(pe.Code), "28"):
		return "check redshift.user and redshift.password (or leave the password empty for temporary credentials)"
	case errors.As(err, &pe) && pe.Code == "3D000":
		return "check redshift.dbname"
	}
	return fmt.Sprintf("check redshift.host and port (%s:%d), that this machine can reach it (security group, VPC), and redshift.sslmode", r.Host, r.Port)
}

// targetTable names a target and its table, as findings report them.
func targetTable(t *config.Target) string {
	return t.Name() + " " + redshift.QuoteTable(t.Redshift.Schema, t.Redshift.Table)
}

// checkTables checks that each target's table exists and that the user
// may INSERT into it (COPY needs that). A key_regexp target whose table
// comes from the key cannot be checked before its objects arrive. It
// returns the targets whose table passed, by index.
func (d *doctor) checkTables(ctx context.Context, dbs endpointDBs) map[int]bool {
	passed := map[int]bool{}
	for i := range d.cfg.Targets {
		t := &d.cfg.Targets[i]
		if t.Discard {
			continue
		}
		if t.UsesCaptures() {
			d.r.skip("table", t.Name()+" "+redshift.QuoteTable(t.Redshift.Schema, t.Redshift.Table),
				"its schema or table comes from each key's captures ($1, $2, ...): it cannot be checked before objects arrive (rin route s3://bucket/key shows the table a key goes to)")
			continue
		}
		db := dbs[t.Redshift.Endpoint()]
		if db == nil {
			d.r.skip("table", targetTable(t), "no login to its endpoint")
			continue
		}
		var insert bool
		err := d.bounded(ctx, func(ctx context.Context) error {
			return db.QueryRowContext(ctx, "SELECT has_table_privilege($1, 'INSERT')", redshift.QuoteTable(t.Redshift.Schema, t.Redshift.Table)).Scan(&insert)
		})
		switch {
		case err != nil:
			d.r.fail("table", targetTable(t), err.Error(), tableFix(t, err))
		case !insert:
			d.r.fail("table", targetTable(t), "exists, but the user may not INSERT into it (COPY needs INSERT)",
				fmt.Sprintf("GRANT INSERT ON %s TO %s", redshift.QuoteTable(t.Redshift.Schema, t.Redshift.Table), t.Redshift.User))
		default:
			passed[i] = true
			d.r.ok("table", targetTable(t), "exists; INSERT allowed")
		}
	}
	return passed
}

func tableFix(t *config.Target, err error) string {
	var pe *pq.Error
	if errors.As(err, &pe) {
		switch pe.Code {
		case "42P01":
			return fmt.Sprintf("create the table, or correct %s.redshift.table (and schema)", t.Name())
		case "3F000":
			return fmt.Sprintf("create schema %q, or correct %s.redshift.schema", t.Redshift.Schema, t.Name())
		case "42501":
			return fmt.Sprintf("GRANT USAGE ON SCHEMA %s TO %s", t.Redshift.Schema, t.Redshift.User)
		}
	}
	return "see the error above"
}

// checkLedgers checks that each table's ledger exists and is writable, or
// that the user may create it in ledger.schema (rin creates it at the
// table's first load). Without a ledger a COPY whose COMMIT reply is lost
// is loaded again.
func (d *doctor) checkLedgers(ctx context.Context, dbs endpointDBs, tables map[int]bool) {
	l := d.cfg.Ledger
	if l.Disabled {
		d.r.warn("ledger", "(disabled)", "ledger.disabled: a COPY whose COMMIT reply is lost (a dropped connection) is loaded again", "remove ledger.disabled")
		return
	}
	canCreate := map[string]bool{} // by endpoint
	for _, r := range d.cfg.Endpoints() {
		db := dbs[r.Endpoint()]
		if db == nil {
			continue
		}
		var usage, create bool
		err := d.bounded(ctx, func(ctx context.Context) error {
			return db.QueryRowContext(ctx, "SELECT has_schema_privilege($1, 'USAGE'), has_schema_privilege($1, 'CREATE')", l.Schema).Scan(&usage, &create)
		})
		switch {
		case err != nil:
			d.r.fail("ledger", "schema "+l.Schema+" on "+r.Endpoint(), err.Error(), fmt.Sprintf("CREATE SCHEMA %s (or set ledger.schema to an existing one)", l.Schema))
		case !usage:
			d.r.fail("ledger", "schema "+l.Schema+" on "+r.Endpoint(), "the user may not use it", fmt.Sprintf("GRANT USAGE, CREATE ON SCHEMA %s TO %s", l.Schema, r.User))
		default:
			canCreate[r.Endpoint()] = create
		}
	}
	for i := range d.cfg.Targets {
		t := &d.cfg.Targets[i]
		db := dbs[t.Redshift.Endpoint()]
		create, schemaOK := canCreate[t.Redshift.Endpoint()]
		switch {
		case t.Discard:
		case t.UsesCaptures():
			if schemaOK && !create {
				d.r.fail("ledger", t.Name(), fmt.Sprintf("rin creates the ledger of each table this target's keys name at its first load, and the user may not CREATE in schema %s", l.Schema),
					fmt.Sprintf("GRANT CREATE ON SCHEMA %s TO %s", l.Schema, t.Redshift.User))
			}
		case db == nil || !schemaOK || !tables[i]:
			d.r.skip("ledger", targetTable(t), "its login, table or ledger schema check did not pass")
		default:
			d.checkLedger(ctx, db, t, create)
		}
	}
}

func (d *doctor) checkLedger(ctx context.Context, db *sql.DB, t *config.Target, canCreate bool) {
	schema, table := redshift.LedgerTable(d.cfg.Ledger, t.Redshift.Schema, t.Redshift.Table)
	name := redshift.QuoteTable(schema, table)
	subject := targetTable(t) + " ledger " + name
	var insert, sel bool
	err := d.bounded(ctx, func(ctx context.Context) error {
		return db.QueryRowContext(ctx, "SELECT has_table_privilege($1, 'INSERT'), has_table_privilege($1, 'SELECT')", name).Scan(&insert, &sel)
	})
	var pe *pq.Error
	switch {
	case err != nil && errors.As(err, &pe) && pe.Code == "42P01" && canCreate:
		d.r.ok("ledger", subject, "not there yet; rin creates it at the table's first load")
	case err != nil && errors.As(err, &pe) && pe.Code == "42P01":
		d.r.fail("ledger", subject, fmt.Sprintf("does not exist, and the user may not CREATE in schema %s to create it", schema),
			fmt.Sprintf("GRANT CREATE ON SCHEMA %s TO %s, or create it with the definition in redshift/ledger.go", schema, t.Redshift.User))
	case err != nil:
		d.r.fail("ledger", subject, err.Error(), "see the error above")
	case !insert || !sel:
		d.r.fail("ledger", subject, "exists, but the user may not INSERT into and SELECT from it", fmt.Sprintf("GRANT ALL ON %s TO %s (rin also LOCKs it)", name, t.Redshift.User))
	default:
		d.r.ok("ledger", subject, "exists; INSERT and SELECT allowed")
	}
}
