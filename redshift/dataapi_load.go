package redshift

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/redshiftdata"
	"github.com/aws/aws-sdk-go-v2/service/redshiftdata/types"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/journal"
)

// target is where Data API statements run: a provisioned cluster as a
// database user (temporary credentials), or a serverless workgroup.
type target struct {
	cluster, workgroup, user, database string
}

func dataTarget(r config.Redshift) target {
	if r.Workgroup != "" {
		// Serverless derives the database user from the IAM identity.
		return target{workgroup: r.Workgroup, database: r.DBName}
	}
	return target{cluster: r.Cluster, user: r.User, database: r.DBName}
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// load is step 2 and 3 for the jobs not in the ledger: the manifest, then
// the batch. It returns the rows the COPYs loaded.
func (c *DataAPICopier) load(ctx context.Context, db target, b fsm.Batch, todo []journal.Job, creds string, attempt int) (int64, error) {
	var from string
	if b.Dest.Manifest {
		bucket, key := c.manifestBucket(b), manifestKey(c.opts.Manifest.Prefix, b.ID)
		if attempt > 0 {
			key = manifestKey(c.opts.Manifest.Prefix, b.ID+"-rest-"+strconv.Itoa(attempt))
		}
		columnar := config.ColumnarFormat(b.Dest.SQLOption) != ""
		if columnar {
			if err := sizeJobs(ctx, c.opts.Store, todo); err != nil {
				return 0, err
			}
		}
		if err := putManifest(ctx, manifestWriter{store: c.opts.Store, sse: c.opts.Manifest}, bucket, key, manifestBody(todo, columnar)); err != nil {
			return 0, err
		}
		// Removed once the batch is over, committed or not (a retry writes
		// a new one). A batch still running after a failed poll fails its
		// COPY on the missing manifest and rolls back: harmless.
		defer removeManifest(c.opts.Store, c.log, bucket, key)
		from = "s3://" + bucket + "/" + key
	}
	p := c.plan(b, todo, from, creds, time.Now())
	for _, i := range p.copies {
		c.log.Debug("COPY", "batch_id", b.ID, "jobs", len(todo), "statements", len(p.sqls), "sql", p.redacted[i])
	}
	if c.beforeBatch != nil {
		c.beforeBatch(ctx, todo)
	}
	out, err := c.opts.Client.BatchExecuteStatement(ctx, &redshiftdata.BatchExecuteStatementInput{
		Sqls: p.sqls, Database: aws.String(db.database), ClusterIdentifier: optional(db.cluster),
		DbUser: optional(db.user), WorkgroupName: optional(db.workgroup), StatementName: aws.String("rin " + b.ID),
	})
	if err != nil {
		return 0, fmt.Errorf("BatchExecuteStatement: %w", err)
	}
	d, err := c.wait(ctx, aws.ToString(out.Id), p.kinds, p.guard)
	if err != nil {
		return 0, c.lockWaited(p, err)
	}
	if p.lock >= 0 && p.lock < len(d.SubStatements) {
		c.guard.observe(time.Duration(max(d.SubStatements[p.lock].Duration, 0)), false)
	}
	var rows int64
	for _, i := range p.copies {
		if i < len(d.SubStatements) && d.SubStatements[i].ResultRows > 0 {
			rows += d.SubStatements[i].ResultRows
		}
	}
	return rows, nil
}

// lockWaited counts a batch that failed waiting for its guard as a guard
// wait, and names batch.lock_timeout when that is what ended it.
func (c *DataAPICopier) lockWaited(p batchPlan, err error) error {
	var se *statementError
	if p.lock < 0 || !errors.As(err, &se) || se.failed != p.lock {
		return err
	}
	timedOut := strings.Contains(strings.ToLower(se.message), "statement timeout")
	if !timedOut {
		return err
	}
	c.guard.observe(c.timeouts.Lock, true)
	return fsm.WithScope(fsm.ScopeStatement, fmt.Errorf("waited for the guard of this table (another load of the table holds it) past batch.lock_timeout (%s): %w", c.timeouts.Lock, err))
}

// loaded is step 1: the jobs (by their own id) that ledger table name
// holds under any of their ids (journal.Job.IDs). Ids are named
// parameters, never SQL.
func (c *DataAPICopier) loaded(ctx context.Context, db target, name string, jobs []journal.Job) (map[string]bool, error) {
	owner, ids := ledgerIDs(jobs)
	out := map[string]bool{}
	for start := 0; start < len(ids); start += 200 {
		chunk := ids[start:min(start+200, len(ids))]
		names := make([]string, len(chunk))
		params := make([]types.SqlParameter, len(chunk))
		for i, id := range chunk {
			names[i] = ":j" + strconv.Itoa(i)
			params[i] = types.SqlParameter{Name: aws.String("j" + strconv.Itoa(i)), Value: aws.String(id)}
		}
		id, err := c.execute(ctx, db, "SELECT job_id FROM "+name+" WHERE job_id IN ("+strings.Join(names, ",")+")", params)
		if err != nil {
			return nil, err
		}
		pages := redshiftdata.NewGetStatementResultPaginator(c.opts.Client, &redshiftdata.GetStatementResultInput{Id: aws.String(id)})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("GetStatementResult: %w", err)
			}
			for _, rec := range page.Records {
				if len(rec) == 0 {
					continue
				}
				if v, ok := rec[0].(*types.FieldMemberStringValue); ok {
					out[owner[v.Value]] = true
				}
			}
		}
	}
	return out, nil
}

// legacyLoaded asks the shared ledger of older rins, while it holds rows,
// which of jobs it recorded (legacy.go).
func (c *DataAPICopier) legacyLoaded(ctx context.Context, endpoint string, db target, jobs []journal.Job) (map[string]bool, error) {
	if c.opts.Ledger.Disabled {
		return nil, nil
	}
	name := c.ledger.legacyName()
	holds, err := c.legacy.check(endpoint, func() (bool, error) { return c.legacyHolds(ctx, db) })
	if err != nil {
		return nil, ledgerDataFault(fmt.Errorf("read ledger %s: %w", name, err))
	}
	if !holds {
		return nil, nil
	}
	got, err := c.loaded(ctx, db, name, jobs)
	if missingTable(err) {
		c.legacy.set(endpoint, false) // dropped by a person: nothing to honour
		return nil, nil
	}
	if err != nil {
		return nil, ledgerDataFault(fmt.Errorf("read ledger %s: %w", name, err))
	}
	return got, nil
}

// legacyHolds asks whether the shared ledger exists and holds a row.
func (c *DataAPICopier) legacyHolds(ctx context.Context, db target) (bool, error) {
	d, err := c.executeD(ctx, db, "SELECT 1 FROM "+c.ledger.legacyName()+" LIMIT 1", nil)
	if missingTable(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return d.ResultRows > 0, nil
}

// ledgerDataFault scopes a failure to read a ledger through the Data API:
// the endpoint's, unless the statement's text says otherwise.
func ledgerDataFault(err error) error {
	err = classifyDataAPI(err)
	switch fsm.ScopeOf(err) {
	case fsm.ScopeTable, fsm.ScopeObject:
		return fsm.WithScope(fsm.ScopeEndpoint, err)
	}
	return err
}

// execute runs one statement and waits for it; it returns its id.
func (c *DataAPICopier) execute(ctx context.Context, db target, sql string, params []types.SqlParameter) (string, error) {
	d, err := c.executeD(ctx, db, sql, params)
	if err != nil {
		return "", err
	}
	return aws.ToString(d.Id), nil
}

// executeD runs one statement and waits for it; it returns how it ended.
func (c *DataAPICopier) executeD(ctx context.Context, db target, sql string, params []types.SqlParameter) (*redshiftdata.DescribeStatementOutput, error) {
	out, err := c.opts.Client.ExecuteStatement(ctx, &redshiftdata.ExecuteStatementInput{
		Sql: aws.String(sql), Parameters: params, Database: aws.String(db.database),
		ClusterIdentifier: optional(db.cluster), DbUser: optional(db.user), WorkgroupName: optional(db.workgroup),
	})
	if err != nil {
		return nil, fmt.Errorf("ExecuteStatement: %w", err)
	}
	id := aws.ToString(out.Id)
	d, err := c.wait(ctx, id, nil, -1)
	if err != nil {
		return nil, err
	}
	if d.Id == nil {
		d.Id = aws.String(id)
	}
	return d, nil
}

func (c *DataAPICopier) ensureLedger(ctx context.Context, endpoint string, db target, schema, table string) error {
	if c.opts.Ledger.Disabled {
		return nil
	}
	name := c.ledger.name(schema, table)
	return c.ensured.once(endpoint, c.ledger.tableFor(schema, table), func() error {
		if _, err := c.execute(ctx, db, c.ledger.createSQL(name), nil); err != nil {
			// Another process may have created it at the same moment.
			if _, again := c.execute(ctx, db, "SELECT 1 FROM "+name+" LIMIT 1", nil); again == nil {
				return nil
			}
			return c.ledger.ensureErr(name, classifyDataAPI(err))
		}
		return nil
	})
}

// manifestBucket is where b's manifests go.
func (c *DataAPICopier) manifestBucket(b fsm.Batch) string {
	if c.opts.Manifest.Bucket != "" {
		return c.opts.Manifest.Bucket
	}
	return b.Jobs[0].Bucket
}
