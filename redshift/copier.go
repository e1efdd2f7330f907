package redshift

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/journal"
)

// Options configure a Copier.
type Options struct {
	// Endpoints are the Redshift endpoints of the config, by Endpoint().
	Endpoints map[string]config.Redshift
	// Credentials for the COPY's CREDENTIALS clause.
	Credentials CopyCredentials
	Ledger      config.Ledger
	Manifest    config.Manifest
	// Store writes and removes manifests (an S3 client).
	Store ObjectStore
	// ClusterCredentials fetches temporary passwords (a Redshift API client).
	ClusterCredentials ClusterCredentialsAPI
	// MaxConns per endpoint.
	MaxConns int
	// Timeouts bound the wait for a table's guard and the COPY after it
	// (batch.lock_timeout, batch.copy_timeout; defaults when zero).
	Timeouts Timeouts
	Logger   *slog.Logger
}

// Copier implements fsm.Copier on Redshift through lib/pq.
type Copier struct {
	opts     Options
	log      *slog.Logger
	ledger   ledger
	timeouts Timeouts

	mu      sync.Mutex
	pools   map[string]*sql.DB
	ensured ensuredSet
	legacy  legacyLedgers
	prunes  pruneSchedule
	guard   guardMeter

	closing context.Context // canceled by Close: ends background prunes
	close   context.CancelFunc
	bg      sync.WaitGroup
}

var _ fsm.Copier = (*Copier)(nil)

// New builds a Copier. Pools are opened on first use.
func New(opts Options) *Copier {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = 4
	}
	closing, stop := context.WithCancel(context.Background())
	return &Copier{
		opts: opts, log: opts.Logger,
		ledger:   ledger{schema: opts.Ledger.Schema, table: opts.Ledger.Table},
		timeouts: opts.Timeouts.withDefaults(),
		pools:    map[string]*sql.DB{},
		closing:  closing, close: stop,
	}
}

// GuardStats reports the loads' waits for their guards (fsm.GuardReporter).
func (c *Copier) GuardStats() fsm.GuardStats { return c.guard.snapshot() }

// Close stops background prunes and closes every pool.
func (c *Copier) Close() error {
	c.close()
	c.bg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, db := range c.pools {
		errs = append(errs, db.Close())
	}
	return errors.Join(errs...)
}

// DB returns the pool of an endpoint.
func (c *Copier) DB(endpoint string) (*sql.DB, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if db := c.pools[endpoint]; db != nil {
		return db, nil
	}
	cfg, ok := c.opts.Endpoints[endpoint]
	if !ok {
		return nil, errEndpointGone(endpoint)
	}
	db := openDB(cfg, c.opts.ClusterCredentials, c.opts.MaxConns)
	c.pools[endpoint] = db
	return db, nil
}

// Copy loads b in one transaction; see the package doc.
func (c *Copier) Copy(ctx context.Context, b fsm.Batch) (fsm.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeouts.backstop())
	defer cancel()
	db, err := c.DB(b.Dest.Endpoint)
	if err != nil {
		return fsm.Result{}, err
	}
	name := c.ledger.name(b.Dest.Schema, b.Dest.Table)
	if err := c.ensureLedger(ctx, b.Dest.Endpoint, db, b.Dest.Schema, b.Dest.Table); err != nil {
		return fsm.Result{}, err
	}
	creds, err := c.opts.Credentials.Clause(ctx)
	if err != nil {
		return fsm.Result{}, fsm.WithScope(fsm.ScopeCredentials, err)
	}

	jobs, skipped := sameLoads(b.Jobs)
	legacy, err := c.legacyLoaded(ctx, b.Dest.Endpoint, db, jobs)
	if err != nil {
		return fsm.Result{Skipped: skipped}, err
	}
	jobs = without(jobs, legacy)
	for id := range legacy {
		skipped[id] = true
	}
	if len(jobs) == 0 {
		return fsm.Result{Skipped: skipped}, nil
	}

	// Write the manifest before taking the guard: S3 latency should not be
	// spent holding other loads of the table up.
	exact := b.Dest.Manifest
	columnar := config.ColumnarFormat(b.Dest.SQLOption) != ""
	var mBucket, mKey string
	if exact {
		mBucket = c.opts.Manifest.Bucket
		if mBucket == "" {
			mBucket = b.Dest.Bucket
		}
		mKey = manifestKey(c.opts.Manifest.Prefix, b.ID)
		if columnar {
			if err := sizeJobs(ctx, c.opts.Store, jobs); err != nil {
				return fsm.Result{}, err
			}
		}
		if err := putManifest(ctx, c.manifests(), mBucket, mKey, manifestBody(jobs, columnar)); err != nil {
			return fsm.Result{}, err
		}
		defer c.removeManifest(mBucket, mKey)
	}

	res, err := c.copyTx(ctx, db, b, jobs, name, creds, mBucket, mKey)
	for id := range skipped {
		res.Skipped[id] = true
	}
	if err != nil && c.opts.Endpoints[b.Dest.Endpoint].ReconnectOnError {
		// reconnect_on_error: start over with fresh connections. Broken
		// ones are dropped anyway; this also drops healthy-looking ones.
		db.SetMaxIdleConns(0)
		db.SetMaxIdleConns(c.opts.MaxConns)
	}
	err = classify(err)
	switch scope := fsm.ScopeOf(err); {
	case err == nil: // (ScopeOf(nil) is the endpoint's)
	case scope == fsm.ScopeCredentials:
		// Expired or refused: the next attempt must not reuse them.
		c.opts.Credentials.Invalidate()
	case scope == fsm.ScopeEndpoint:
		// The ledger may be what failed (dropped by a person): check it
		// again before the next COPY.
		c.ensured.forget(b.Dest.Endpoint)
		c.legacy.forget(b.Dest.Endpoint)
	}
	if err == nil && !c.opts.Ledger.Disabled {
		names := []string{name}
		if c.legacy.known(b.Dest.Endpoint) {
			names = append(names, c.ledger.legacyName())
		}
		c.maybePrune(b.Dest.Endpoint, db, names...)
	}
	return res, err
}

// copyTx is the load's transaction: the guard, the ledger check, the COPY,
// the ledger rows. batch.copy_timeout counts from the guard taken.
func (c *Copier) copyTx(ctx context.Context, db *sql.DB, b fsm.Batch, jobs []journal.Job, name, creds, mBucket, mKey string) (fsm.Result, error) {
	res := fsm.Result{Skipped: map[string]bool{}}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return res, err
	}
	defer tx.Rollback()

	todo := jobs
	if c.opts.Ledger.Disabled {
		err = setStatementTimeout(ctx, tx, c.timeouts.Copy)
	} else {
		err = lockLedger(ctx, tx, name, c.timeouts, &c.guard)
	}
	if err != nil {
		if fsm.ScopeOf(err) == fsm.ScopeStatement {
			return res, err // the guard's wait timed out
		}
		return res, ledgerFault(fmt.Errorf("lock ledger %s: %w", name, err))
	}
	copyStart := time.Now()
	copyCtx, cancel := context.WithTimeout(ctx, c.timeouts.Copy+clientGrace)
	defer cancel()
	timedOut := func(err error) error {
		if ctx.Err() == nil && (errors.Is(copyCtx.Err(), context.DeadlineExceeded) ||
			(isStatementTimeout(err) && time.Since(copyStart) >= c.timeouts.Copy)) {
			return fsm.WithScope(fsm.ScopeStatement, fmt.Errorf("COPY cancelled after batch.copy_timeout (%s): %w", c.timeouts.Copy, err))
		}
		return err
	}

	if !c.opts.Ledger.Disabled {
		loaded, err := loaded(copyCtx, tx, name, jobs)
		if err != nil {
			return res, ledgerFault(fmt.Errorf("read ledger %s: %w", name, timedOut(err)))
		}
		if len(loaded) > 0 {
			res.Skipped = loaded
			todo = without(jobs, loaded)
			if len(todo) > 0 && mKey != "" {
				// Rare (a retry after a lost commit): list only what is left.
				mKey = manifestKey(c.opts.Manifest.Prefix, b.ID+"-rest")
				if err := putManifest(copyCtx, c.manifests(), mBucket, mKey, manifestBody(todo, config.ColumnarFormat(b.Dest.SQLOption) != "")); err != nil {
					return res, err
				}
				defer c.removeManifest(mBucket, mKey)
			}
		}
	}

	if len(todo) > 0 {
		stmts := make([]copyStatement, 0, len(todo))
		base := copyStatement{
			table: tableName(b.Dest.Schema, b.Dest.Table), creds: creds,
			region: b.Dest.Region, sqlOption: b.Dest.SQLOption,
		}
		if mKey != "" {
			s := base
			s.from, s.manifest = "s3://"+mBucket+"/"+mKey, true
			stmts = append(stmts, s)
		} else {
			for _, j := range todo {
				s := base
				s.from = j.URI()
				stmts = append(stmts, s)
			}
		}
		partial := allowsSkippedRows(b.Dest.SQLOption)
		for _, s := range stmts {
			c.log.Debug("COPY", "batch_id", b.ID, "sql", s.Redacted())
			r, err := tx.ExecContext(copyCtx, s.SQL())
			if err != nil {
				return res, timedOut(fmt.Errorf("COPY into %s from %s%s: %w", s.table, s.from, errorContext(err), err))
			}
			if n, err := r.RowsAffected(); err == nil {
				res.Rows += n
			}
			if partial {
				if err := readSkippedRows(copyCtx, tx, todo, &res); err != nil {
					return res, timedOut(err)
				}
			}
		}
		if !c.opts.Ledger.Disabled {
			if err := record(copyCtx, tx, name, b.ID, todo, res, time.Now()); err != nil {
				return res, ledgerFault(fmt.Errorf("write ledger %s: %w", name, timedOut(err)))
			}
		}
	}
	if err := tx.Commit(); err != nil {
		// The commit may or may not have happened; the job stays retryable
		// and the ledger settles it on the next attempt.
		return res, fmt.Errorf("COMMIT (outcome unknown; the ledger will tell on retry): %w", err)
	}
	return res, nil
}

func (c *Copier) manifests() manifestWriter {
	return manifestWriter{store: c.opts.Store, sse: c.opts.Manifest}
}

func (c *Copier) ensureLedger(ctx context.Context, endpoint string, db *sql.DB, schema, table string) error {
	if c.opts.Ledger.Disabled {
		return nil
	}
	return c.ensured.once(endpoint, c.ledger.tableFor(schema, table), func() error { return c.ledger.ensure(ctx, db, schema, table) })
}

// removeManifest deletes a manifest once its COPY is over. It runs after
// the transaction ended, committed or not: a retry writes a new manifest.
func (c *Copier) removeManifest(bucket, key string) {
	removeManifest(c.opts.Store, c.log, bucket, key)
}
