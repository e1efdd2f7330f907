package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	rsapi "github.com/aws/aws-sdk-go-v2/service/redshift"
	"github.com/aws/aws-sdk-go-v2/service/redshiftdata"
	"github.com/aws/smithy-go"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/redshift"
)

// endpointDBs are the sessions of the endpoints whose login passed, each
// over its endpoint's driver (lib/pq or the Data API).
type endpointDBs map[string]redshift.Session

func (m endpointDBs) close() {
	for _, db := range m {
		db.Close()
	}
}

// checkLogins logs in to each endpoint as the loader does: with its
// password, or a temporary one from GetClusterCredentials, over lib/pq; or
// through the Data API (driver redshift-data), whose first statement is
// the login.
func (d *doctor) checkLogins(ctx context.Context) endpointDBs {
	dbs := endpointDBs{}
	apis := redshift.SessionAPIs{ClusterCredentials: rsapi.NewFromConfig(d.aws), DataAPI: redshiftdata.NewFromConfig(d.aws), Logger: d.log}
	for _, r := range d.cfg.Endpoints() {
		ep := r.Endpoint()
		db := redshift.OpenSession(r, apis)
		var user string
		err := d.bounded(ctx, func(ctx context.Context) error {
			row, err := db.QueryRow(ctx, "SELECT current_user")
			if err == nil {
				user = row[0]
			}
			return err
		})
		if err != nil {
			db.Close()
			d.r.fail("login", ep, err.Error(), loginFix(r, err))
			continue
		}
		dbs[ep] = db
		how := "connected as " + user
		if r.Driver == config.DriverRedshiftData {
			how = "Data API statements run as " + user
		}
		d.r.ok("login", ep, how)
	}
	return dbs
}

func loginFix(r config.Redshift, err error) string {
	code := redshift.SQLState(err)
	if r.Driver == config.DriverRedshiftData {
		var ae smithy.APIError
		switch {
		case code == "3D000":
			return "check redshift.dbname"
		case errors.As(err, &ae) && ae.ErrorCode() == "ValidationException":
			return "check redshift.cluster (or redshift.workgroup), redshift.dbname and redshift.user: the Data API refused them"
		case errors.As(err, &ae):
			return "grant redshift-data:ExecuteStatement, BatchExecuteStatement, DescribeStatement, GetStatementResult and CancelStatement, and redshift:GetClusterCredentials on the dbuser (a cluster) or redshift-serverless:GetCredentials (a workgroup); check AWS_REGION"
		}
		return "check that the Data API answers in this region (AWS_REGION, AWS_ENDPOINT_URL_REDSHIFT_DATA) and that the cluster or workgroup is available"
	}
	switch {
	case strings.Contains(err.Error(), "GetClusterCredentials"):
		return "the password is empty, so rin asks GetClusterCredentials: grant redshift:GetClusterCredentials on the cluster's dbuser and dbname (the cluster id is the host's first label, or redshift.cluster)"
	case strings.HasPrefix(code, "28"):
		return "check redshift.user and redshift.password (or leave the password empty for temporary credentials)"
	case code == "3D000":
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
			row, err := db.QueryRow(ctx, "SELECT has_table_privilege("+db.Param(1)+", 'INSERT')", redshift.QuoteTable(t.Redshift.Schema, t.Redshift.Table))
			if err == nil {
				insert = row[0] == "true"
			}
			return err
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
	switch redshift.SQLState(err) {
	case "42P01":
		return fmt.Sprintf("create the table, or correct %s.redshift.table (and schema)", t.Name())
	case "3F000":
		return fmt.Sprintf("create schema %q, or correct %s.redshift.schema", t.Redshift.Schema, t.Name())
	case "42501":
		return fmt.Sprintf("GRANT USAGE ON SCHEMA %s TO %s", t.Redshift.Schema, t.Redshift.User)
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
			row, err := db.QueryRow(ctx, "SELECT has_schema_privilege("+db.Param(1)+", 'USAGE'), has_schema_privilege("+db.Param(1)+", 'CREATE')", l.Schema)
			if err == nil {
				usage, create = row[0] == "true", row[1] == "true"
			}
			return err
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

func (d *doctor) checkLedger(ctx context.Context, db redshift.Session, t *config.Target, canCreate bool) {
	schema, table := redshift.LedgerTable(d.cfg.Ledger, t.Redshift.Schema, t.Redshift.Table)
	name := redshift.QuoteTable(schema, table)
	subject := targetTable(t) + " ledger " + name
	var insert, sel bool
	err := d.bounded(ctx, func(ctx context.Context) error {
		row, err := db.QueryRow(ctx, "SELECT has_table_privilege("+db.Param(1)+", 'INSERT'), has_table_privilege("+db.Param(1)+", 'SELECT')", name)
		if err == nil {
			insert, sel = row[0] == "true", row[1] == "true"
		}
		return err
	})
	missing := redshift.SQLState(err) == "42P01"
	switch {
	case err != nil && missing && canCreate:
		d.r.ok("ledger", subject, "not there yet; rin creates it at the table's first load")
	case err != nil && missing:
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
