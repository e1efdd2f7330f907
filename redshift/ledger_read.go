package redshift

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/redshiftdata"
	"github.com/aws/aws-sdk-go-v2/service/redshiftdata/types"
	"github.com/lib/pq"

	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/journal"
)

// The ledger is the one record of what was loaded that outlives the
// journal's retention (and, in Lambda mode, the journal itself). `rin
// backfill` asks it which listed objects are loaded already, and `rin
// reconcile` reads its rows for a prefix. Reading is advisory: the COPY's own
// transaction still checks the ledger under its lock before it loads.
//
// An endpoint's ledger is several tables: one per target table, and the
// shared table of older rins while it exists (ledger.go, legacy.go). The
// reader lists them in the catalog once and reads them all, a few per
// statement (UNION ALL).

// ErrNoLedger means the config disables the ledger (ledger.disabled), so
// there is nothing in Redshift to read.
var ErrNoLedger = errors.New("the ledger is disabled (ledger.disabled: true)")

// LedgerRow is one loaded job as the ledger records it.
type LedgerRow struct {
	JobID    string
	Target   string // the config target that loaded it ("targets[1]")
	URI      string // s3://bucket/key
	Version  string // the object version of the job id (versionId, else eTag, ...)
	LoadedAt time.Time
}

// LedgerReader reads one endpoint's ledger.
type LedgerReader struct {
	q      ledgerQuerier
	ledger ledger
	chunk  int // ids per IN list

	tables []string // quoted names of the ledger's tables, once listed
	listed bool
}

// tablesPerStatement bounds the UNION ALL of one read (statement size).
const tablesPerStatement = 20

// ledgerQuerier runs one read-only statement whose parameters are all
// strings and hands over each row's columns as strings ("" for NULL).
type ledgerQuerier interface {
	queryLedger(ctx context.Context, sql string, args []string, row func([]string) error) error
	// param is the placeholder of the i-th parameter (from 1).
	param(i int) string
}

// LedgerFor returns the reader of endpoint's ledger behind c — a Regional,
// Versions or Dispatch wrapping a Copier (lib/pq) or a DataAPICopier — on
// their connections.
func LedgerFor(c fsm.Copier, endpoint string) (*LedgerReader, error) {
	switch c := c.(type) {
	case Regional:
		return LedgerFor(c.Next, endpoint)
	case Versions:
		return LedgerFor(c.Next, endpoint)
	case Dispatch:
		inner, ok := c[endpoint]
		if !ok {
			return nil, errEndpointGone(endpoint)
		}
		return LedgerFor(inner, endpoint)
	case *Copier:
		if c.opts.Ledger.Disabled {
			return nil, ErrNoLedger
		}
		return &LedgerReader{q: pqLedger{c: c, endpoint: endpoint}, ledger: c.ledger, chunk: 500}, nil
	case *DataAPICopier:
		if c.opts.Ledger.Disabled {
			return nil, ErrNoLedger
		}
		return &LedgerReader{q: dataLedger{c: c, endpoint: endpoint}, ledger: c.ledger, chunk: 200}, nil
	}
	return nil, fmt.Errorf("ledger of %s: copier %T reads no ledger", endpoint, c)
}

// Loaded returns the ids among ids that the ledger holds. A ledger table
// that does not exist yet holds nothing.
//
// A job loaded by an older rin is recorded under the id that rin gave it
// (journal.LegacyJobID); LoadedJobs, which knows each job's other ids, finds
// those too.
func (l *LedgerReader) Loaded(ctx context.Context, ids []string) (map[string]bool, error) {
	tables, err := l.list(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for start := 0; start < len(ids); start += l.chunk {
		chunk := ids[start:min(start+l.chunk, len(ids))]
		if err := l.loadedIn(ctx, tables, chunk, func(id string) { out[id] = true }); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// LoadedJobs returns the jobs (by their own id) that the ledger holds under
// any of their ids (journal.Job.IDs), asking only their tables' ledgers and
// the shared ledger of older rins: what the COPY's own check would find.
func (l *LedgerReader) LoadedJobs(ctx context.Context, jobs []journal.Job) (map[string]bool, error) {
	all, err := l.list(ctx)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, t := range all {
		have[t] = true
	}
	legacy := l.ledger.legacyName()
	byTable := map[string][]journal.Job{}
	for _, j := range jobs {
		byTable[l.ledger.name(j.Schema, j.Table)] = append(byTable[l.ledger.name(j.Schema, j.Table)], j)
	}
	out := map[string]bool{}
	for name, group := range byTable {
		var tables []string
		for _, t := range []string{name, legacy} {
			if have[t] {
				tables = append(tables, t)
			}
		}
		if len(tables) == 0 {
			continue
		}
		owner := map[string]string{}
		var ids []string
		for _, j := range group {
			for _, id := range j.IDs() {
				if _, ok := owner[id]; !ok {
					owner[id] = j.ID
					ids = append(ids, id)
				}
			}
		}
		for start := 0; start < len(ids); start += l.chunk {
			chunk := ids[start:min(start+l.chunk, len(ids))]
			if err := l.loadedIn(ctx, tables, chunk, func(id string) { out[owner[id]] = true }); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// loadedIn calls found for each of ids that tables hold.
func (l *LedgerReader) loadedIn(ctx context.Context, tables, ids []string, found func(string)) error {
	ph := make([]string, len(ids))
	for i := range ids {
		ph[i] = l.q.param(i + 1)
	}
	in := " WHERE job_id IN (" + strings.Join(ph, ",") + ")"
	return l.each(ctx, tables, func(t string) string { return "SELECT job_id FROM " + t + in }, ids, func(cols []string) error {
		found(cols[0])
		return nil
	})
}

// Rows calls fn for every ledger row whose s3_uri starts with uriPrefix.
// The prefix is a parameter, with LIKE's wildcards escaped: keys are data.
func (l *LedgerReader) Rows(ctx context.Context, uriPrefix string, fn func(LedgerRow) error) error {
	tables, err := l.list(ctx)
	if err != nil {
		return err
	}
	sel := func(t string) string {
		return "SELECT job_id, target, s3_uri, object_version, TO_CHAR(loaded_at, 'YYYY-MM-DD HH24:MI:SS') FROM " + t +
			" WHERE s3_uri LIKE " + l.q.param(1) + " ESCAPE '!'"
	}
	return l.each(ctx, tables, sel, []string{likePrefix(uriPrefix)}, func(cols []string) error {
		at, _ := time.Parse(time.DateTime, cols[4])
		return fn(LedgerRow{JobID: cols[0], Target: cols[1], URI: cols[2], Version: cols[3], LoadedAt: at})
	})
}

// each runs sel over tables, a few per statement joined by UNION ALL, with
// args, and hands over every row. A table dropped since the listing holds
// nothing.
func (l *LedgerReader) each(ctx context.Context, tables []string, sel func(table string) string, args []string, row func([]string) error) error {
	for start := 0; start < len(tables); start += tablesPerStatement {
		group := tables[start:min(start+tablesPerStatement, len(tables))]
		parts := make([]string, len(group))
		for i, t := range group {
			parts[i] = sel(t)
		}
		err := l.q.queryLedger(ctx, strings.Join(parts, " UNION ALL "), args, row)
		if missingTable(err) && len(group) > 1 {
			for _, t := range group { // one at a time: only the dropped one is skipped
				if err := l.q.queryLedger(ctx, sel(t), args, row); err != nil && !missingTable(err) {
					return fmt.Errorf("read ledger %s: %w", t, err)
				}
			}
			continue
		}
		if err != nil && !missingTable(err) {
			return fmt.Errorf("read ledger %s: %w", strings.Join(group, ", "), err)
		}
	}
	return nil
}

// list returns the quoted names of the endpoint's ledger tables, from the
// catalog, once: the shared one of older rins if it exists, and every
// per-table one.
func (l *LedgerReader) list(ctx context.Context) ([]string, error) {
	if l.listed {
		return l.tables, nil
	}
	q := "SELECT table_name FROM information_schema.tables WHERE table_schema = " + l.q.param(1) +
		" AND (table_name = " + l.q.param(2) + " OR table_name LIKE " + l.q.param(3) + " ESCAPE '!')"
	var tables []string
	err := l.q.queryLedger(ctx, q, []string{l.ledger.schemaOrPublic(), l.ledger.table, likePrefix(l.ledger.prefix() + "_")}, func(cols []string) error {
		if cols[0] == l.ledger.table || l.ledger.isTableLedger(cols[0]) {
			tables = append(tables, tableName(l.ledger.schema, cols[0]))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list ledger tables in %s: %w", l.ledger.schemaOrPublic(), err)
	}
	l.tables, l.listed = tables, true
	return tables, nil
}

// likePrefix is the LIKE pattern (escape character '!') matching strings
// that start with p.
func likePrefix(p string) string {
	return strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(p) + "%"
}

// missingTable reports that the ledger table (or its schema) does not
// exist: nothing was ever loaded through it.
func missingTable(err error) bool {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return pe.Code == "42P01" || pe.Code == "3F000"
	}
	var se *statementError
	if errors.As(err, &se) {
		return strings.Contains(se.Error(), "does not exist")
	}
	return false
}

// pqLedger reads through the Copier's pool of an endpoint.
type pqLedger struct {
	c        *Copier
	endpoint string
}

func (p pqLedger) param(i int) string { return "$" + strconv.Itoa(i) }

func (p pqLedger) queryLedger(ctx context.Context, q string, args []string, row func([]string) error) error {
	db, err := p.c.DB(p.endpoint)
	if err != nil {
		return err
	}
	return queryStrings(ctx, db, q, args, row)
}

// queryStrings runs q with string parameters on db and hands each row's
// columns over as strings ("" for NULL).
func queryStrings(ctx context.Context, db *sql.DB, q string, args []string, row func([]string) error) error {
	params := make([]any, len(args))
	for i, a := range args {
		params[i] = a
	}
	rows, err := db.QueryContext(ctx, q, params...)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	out := make([]string, len(cols))
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i, v := range vals {
			out[i] = v.String
		}
		if err := row(out); err != nil {
			return err
		}
	}
	return rows.Err()
}

// dataLedger reads through the Data API: one ExecuteStatement, then its
// result pages.
type dataLedger struct {
	c        *DataAPICopier
	endpoint string
}

func (d dataLedger) param(i int) string { return ":p" + strconv.Itoa(i) }

func (d dataLedger) queryLedger(ctx context.Context, q string, args []string, row func([]string) error) error {
	cfg, ok := d.c.opts.Endpoints[d.endpoint]
	if !ok {
		return errEndpointGone(d.endpoint)
	}
	return d.c.queryStrings(ctx, dataTarget(cfg), q, args, row)
}

// queryStrings runs q (parameters :p1, :p2, ...) through the Data API and
// hands each row's columns over as strings ("" for NULL).
func (c *DataAPICopier) queryStrings(ctx context.Context, db target, q string, args []string, row func([]string) error) error {
	var params []types.SqlParameter // none: nil, as the API wants no empty list
	for i, a := range args {
		params = append(params, types.SqlParameter{Name: aws.String("p" + strconv.Itoa(i+1)), Value: aws.String(a)})
	}
	id, err := c.execute(ctx, db, q, params)
	if err != nil {
		return err
	}
	pages := redshiftdata.NewGetStatementResultPaginator(c.opts.Client, &redshiftdata.GetStatementResultInput{Id: aws.String(id)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("GetStatementResult: %w", err)
		}
		for _, rec := range page.Records {
			out := make([]string, len(rec))
			for i, f := range rec {
				out[i] = fieldString(f)
			}
			if err := row(out); err != nil {
				return err
			}
		}
	}
	return nil
}

// fieldString renders a Data API field as text ("" for NULL).
func fieldString(f types.Field) string {
	switch v := f.(type) {
	case *types.FieldMemberStringValue:
		return v.Value
	case *types.FieldMemberLongValue:
		return strconv.FormatInt(v.Value, 10)
	case *types.FieldMemberDoubleValue:
		return strconv.FormatFloat(v.Value, 'g', -1, 64)
	case *types.FieldMemberBooleanValue:
		return strconv.FormatBool(v.Value)
	}
	return ""
}
