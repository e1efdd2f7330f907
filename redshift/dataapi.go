package redshift

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/redshiftdata"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/journal"
)

// DataAPI is the part of the Redshift Data API client used by
// DataAPICopier (*redshiftdata.Client implements it).
type DataAPI interface {
	ExecuteStatement(ctx context.Context, in *redshiftdata.ExecuteStatementInput, opts ...func(*redshiftdata.Options)) (*redshiftdata.ExecuteStatementOutput, error)
	BatchExecuteStatement(ctx context.Context, in *redshiftdata.BatchExecuteStatementInput, opts ...func(*redshiftdata.Options)) (*redshiftdata.BatchExecuteStatementOutput, error)
	DescribeStatement(ctx context.Context, in *redshiftdata.DescribeStatementInput, opts ...func(*redshiftdata.Options)) (*redshiftdata.DescribeStatementOutput, error)
	GetStatementResult(ctx context.Context, in *redshiftdata.GetStatementResultInput, opts ...func(*redshiftdata.Options)) (*redshiftdata.GetStatementResultOutput, error)
	CancelStatement(ctx context.Context, in *redshiftdata.CancelStatementInput, opts ...func(*redshiftdata.Options)) (*redshiftdata.CancelStatementOutput, error)
}

// DataAPIOptions configure a DataAPICopier.
type DataAPIOptions struct {
	// Endpoints are the redshift-data endpoints of the config, by Endpoint().
	Endpoints map[string]config.Redshift
	// Credentials for the COPY's CREDENTIALS clause.
	Credentials CopyCredentials
	Ledger      config.Ledger
	Manifest    config.Manifest
	// Store writes and removes manifests (an S3 client).
	Store ObjectStore
	// Client is the Data API client.
	Client DataAPI
	// PollMin and PollMax bound the wait between DescribeStatement calls
	// while a statement runs; the wait grows from one to the other
	// (defaults 100ms and 2s).
	PollMin, PollMax time.Duration
	// Timeouts bound the wait for a table's guard and the COPY after it
	// (batch.lock_timeout, batch.copy_timeout; defaults when zero).
	Timeouts Timeouts
	Logger   *slog.Logger
}

// DataAPICopier implements fsm.Copier on the Redshift Data API
// (driver: redshift-data), exactly once. The Data API has no interactive
// transaction to check the ledger in, so it checks first and lets the
// load's own transaction verify that nothing changed in between:
//
//  1. ExecuteStatement: SELECT job_id FROM the table's ledger WHERE job_id
//     IN (...every id of each job); the jobs found are skipped (and those
//     the shared ledger of older rins holds, legacy.go), a manifest lists
//     the rest.
//  2. BatchExecuteStatement, one transaction: SET statement_timeout (the
//     lock's bound); LOCK the table's ledger (the guard, as with lib/pq);
//     SET statement_timeout (the COPY's); INSERT the ledger rows; a guard
//     statement that divides by zero, aborting the whole transaction, when
//     the ledger holds more rows under those jobs' ids than the batch just
//     inserted (another loader committed one after step 1); the COPY.
//  3. DescribeStatement until FINISHED or FAILED. When the guard fired,
//     back to step 1 once: the ledger now says which jobs are loaded.
//
// As with the lib/pq Copier, the ledger rows commit with the rows they
// vouch for, so a batch whose outcome rin did not learn (a poll that
// failed, a crash) is settled by the ledger on its next attempt. The ledger
// rows' row_count is NULL: a batch cannot feed the COPY's count into a
// later statement portably.
type DataAPICopier struct {
	opts     DataAPIOptions
	log      *slog.Logger
	ledger   ledger
	timeouts Timeouts

	ensured ensuredSet
	legacy  legacyLedgers
	prunes  pruneSchedule
	guard   guardMeter

	closing context.Context // canceled by Close: ends background prunes
	close   context.CancelFunc
	bg      sync.WaitGroup

	// beforeBatch, when set (by tests), runs between the ledger read and
	// the batch: the window in which another loader may commit the jobs.
	beforeBatch func(ctx context.Context, todo []journal.Job)
}

var _ fsm.Copier = (*DataAPICopier)(nil)

// NewDataAPI builds a DataAPICopier.
func NewDataAPI(opts DataAPIOptions) *DataAPICopier {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.PollMin <= 0 {
		opts.PollMin = 100 * time.Millisecond
	}
	if opts.PollMax < opts.PollMin {
		opts.PollMax = max(2*time.Second, opts.PollMin)
	}
	closing, stop := context.WithCancel(context.Background())
	return &DataAPICopier{
		opts: opts, log: opts.Logger,
		ledger:   ledger{schema: opts.Ledger.Schema, table: opts.Ledger.Table},
		timeouts: opts.Timeouts.withDefaults(),
		closing:  closing, close: stop,
	}
}

// GuardStats reports the loads' waits for their guards (fsm.GuardReporter).
func (c *DataAPICopier) GuardStats() fsm.GuardStats { return c.guard.snapshot() }

// Close stops background prunes.
func (c *DataAPICopier) Close() error {
	c.close()
	c.bg.Wait()
	return nil
}

// Copy loads b; see the type's doc. A batch too big for one Data API
// request (statement count or size) is loaded in parts, each its own
// transaction with its own ledger rows, which keeps every job exactly once.
func (c *DataAPICopier) Copy(ctx context.Context, b fsm.Batch) (fsm.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeouts.backstop())
	defer cancel()
	res := fsm.Result{Skipped: map[string]bool{}}
	cfg, ok := c.opts.Endpoints[b.Dest.Endpoint]
	if !ok {
		return res, errEndpointGone(b.Dest.Endpoint)
	}
	db := dataTarget(cfg)
	if err := c.ensureLedger(ctx, b.Dest.Endpoint, db, b.Dest.Schema, b.Dest.Table); err != nil {
		return res, err
	}
	creds, err := c.opts.Credentials.Clause(ctx)
	if err != nil {
		return res, err
	}
	jobs, skipped := sameLoads(b.Jobs)
	res.Skipped = skipped
	legacy, err := c.legacyLoaded(ctx, b.Dest.Endpoint, db, jobs)
	if err != nil {
		return res, classifyDataAPI(err)
	}
	for id := range legacy {
		res.Skipped[id] = true
	}
	if jobs = without(jobs, legacy); len(jobs) == 0 {
		return res, nil
	}
	err = c.copyParts(ctx, db, b, jobs, creds, &res)
	if err == nil && !c.opts.Ledger.Disabled {
		names := []string{c.ledger.name(b.Dest.Schema, b.Dest.Table)}
		if c.legacy.known(b.Dest.Endpoint) {
			names = append(names, c.ledger.legacyName())
		}
		c.maybePrune(b.Dest.Endpoint, db, names...)
	}
	return res, classifyDataAPI(err)
}

// copyParts loads jobs, halving them until each part fits one request.
func (c *DataAPICopier) copyParts(ctx context.Context, db target, b fsm.Batch, jobs []journal.Job, creds string, res *fsm.Result) error {
	from := ""
	if b.Dest.Manifest {
		from = "s3://" + c.manifestBucket(b) + "/" + manifestKey(c.opts.Manifest.Prefix, b.ID+"-rest-0")
	}
	probe := c.plan(b, jobs, from, creds, time.Now())
	if len(jobs) > 1 && !probe.fits() {
		half := len(jobs) / 2
		first, second := b, b
		first.ID, second.ID = b.ID+"-a", b.ID+"-b"
		if err := c.copyParts(ctx, db, first, jobs[:half], creds, res); err != nil {
			return err
		}
		return c.copyParts(ctx, db, second, jobs[half:], creds, res)
	}
	return c.copyOnce(ctx, db, b, jobs, creds, res)
}

// copyOnce runs steps 1 to 3, and again once if the guard fired.
func (c *DataAPICopier) copyOnce(ctx context.Context, db target, b fsm.Batch, jobs []journal.Job, creds string, res *fsm.Result) error {
	for attempt := 0; ; attempt++ {
		todo := jobs
		if !c.opts.Ledger.Disabled {
			name := c.ledger.name(b.Dest.Schema, b.Dest.Table)
			loaded, err := c.loaded(ctx, db, name, jobs)
			if err != nil {
				return fmt.Errorf("read ledger %s: %w", name, err)
			}
			todo = todo[:0:0]
			for _, j := range jobs {
				if loaded[j.ID] {
					res.Skipped[j.ID] = true
				} else {
					todo = append(todo, j)
				}
			}
		}
		if len(todo) == 0 {
			return nil
		}
		rows, err := c.load(ctx, db, b, todo, creds, attempt)
		var se *statementError
		if err != nil && errors.As(err, &se) && se.guard() {
			if attempt == 0 {
				c.log.Info("another loader committed some jobs of this batch since the ledger was read; reading it again",
					"batch_id", b.ID, "statement_id", se.id)
				continue
			}
			// Still transient: the engine retries the batch later.
			err = fmt.Errorf("the ledger changed under the batch twice (another loader is loading the same jobs): %w", err)
		}
		res.Rows += rows
		return err
	}
}
