package redshift

import (
	"context"
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
		return 0, err
	}
	var rows int64
	for _, i := range p.copies {
		if i < len(d.SubStatements) && d.SubStatements[i].ResultRows > 0 {
			rows += d.SubStatements[i].ResultRows
		}
	}
	return rows, nil
}

// loaded is step 1: the ids among jobs that the ledger holds. Job ids are
// named parameters, never SQL.
func (c *DataAPICopier) loaded(ctx context.Context, db target, jobs []journal.Job) (map[string]bool, error) {
	out := map[string]bool{}
	for start := 0; start < len(jobs); start += 200 {
		chunk := jobs[start:min(start+200, len(jobs))]
		names := make([]string, len(chunk))
		params := make([]types.SqlParameter, len(chunk))
		for i, j := range chunk {
			names[i] = ":j" + strconv.Itoa(i)
			params[i] = types.SqlParameter{Name: aws.String("j" + strconv.Itoa(i)), Value: aws.String(j.ID)}
		}
		id, err := c.execute(ctx, db, "SELECT job_id FROM "+c.ledger.name()+" WHERE job_id IN ("+strings.Join(names, ",")+")", params)
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
					out[v.Value] = true
				}
			}
		}
	}
	return out, nil
}

// execute runs one statement and waits for it; it returns its id.
func (c *DataAPICopier) execute(ctx context.Context, db target, sql string, params []types.SqlParameter) (string, error) {
	out, err := c.opts.Client.ExecuteStatement(ctx, &redshiftdata.ExecuteStatementInput{
		Sql: aws.String(sql), Parameters: params, Database: aws.String(db.database),
		ClusterIdentifier: optional(db.cluster), DbUser: optional(db.user), WorkgroupName: optional(db.workgroup),
	})
	if err != nil {
		return "", fmt.Errorf("ExecuteStatement: %w", err)
	}
	id := aws.ToString(out.Id)
	if _, err := c.wait(ctx, id, nil, -1); err != nil {
		return "", err
	}
	return id, nil
}

func (c *DataAPICopier) ensureLedger(ctx context.Context, endpoint string, db target) error {
	if c.opts.Ledger.Disabled {
		return nil
	}
	return c.ensured.once(endpoint, func() error {
		if _, err := c.execute(ctx, db, c.ledger.createSQL(), nil); err != nil {
			return c.ledger.ensureErr(classifyDataAPI(err))
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

// uniqueJobs drops repeated job ids: the guard counts each job once.
func uniqueJobs(jobs []journal.Job) []journal.Job {
	seen := make(map[string]bool, len(jobs))
	out := make([]journal.Job, 0, len(jobs))
	for _, j := range jobs {
		if !seen[j.ID] {
			seen[j.ID] = true
			out = append(out, j)
		}
	}
	return out
}
