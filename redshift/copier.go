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
	Logger   *slog.Logger
}

// Copier implements fsm.Copier on Redshift through lib/pq.
type Copier struct {
	opts   Options
	log    *slog.Logger
	ledger ledger

	mu      sync.Mutex
	pools   map[string]*sql.DB
	ensured ensuredSet
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
	return &Copier{
		opts: opts, log: opts.Logger,
		ledger: ledger{schema: opts.Ledger.Schema, table: opts.Ledger.Table},
		pools:  map[string]*sql.DB{},
	}
}

// Close closes every pool.
func (c *Copier) Close() error {
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
	db, err := c.DB(b.Dest.Endpoint)
	if err != nil {
		return fsm.Result{}, err
	}
	if err := c.ensureLedger(ctx, b.Dest.Endpoint, db); err != nil {
		return fsm.Result{}, err
	}
	creds, err := c.opts.Credentials.Clause(ctx)
	if err != nil {
		return fsm.Result{}, fsm.WithScope(fsm.ScopeCredentials, err)
	}

	// Write the manifest before taking the ledger lock: S3 latency should
	// not be spent holding every other loader up.
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
			if err := sizeJobs(ctx, c.opts.Store, b.Jobs); err != nil {
				return fsm.Result{}, err
			}
		}
		if err := putManifest(ctx, c.manifests(), mBucket, mKey, manifestBody(b.Jobs, columnar)); err != nil {
			return fsm.Result{}, err
		}
		defer c.removeManifest(mBucket, mKey)
	}

	res, err := c.copyTx(ctx, db, b, creds, mBucket, mKey)
	if err != nil && c.opts.Endpoints[b.Dest.Endpoint].ReconnectOnError {
		// reconnect_on_error: start over with fresh connections. Broken
		// ones are dropped anyway; this also drops healthy-looking ones.
		db.SetMaxIdleConns(0)
		db.SetMaxIdleConns(c.opts.MaxConns)
	}
	err = classify(err)
	switch fsm.ScopeOf(err) {
	case fsm.ScopeCredentials:
		// Expired or refused: the next attempt must not reuse them.
		c.opts.Credentials.Invalidate()
	case fsm.ScopeEndpoint:
		// The ledger may be what failed (dropped by a person): check it
		// again before the next COPY.
		c.ensured.forget(b.Dest.Endpoint)
	}
	return res, err
}

func (c *Copier) copyTx(ctx context.Context, db *sql.DB, b fsm.Batch, creds, mBucket, mKey string) (fsm.Result, error) {
	res := fsm.Result{Skipped: map[string]bool{}}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return res, err
	}
	defer tx.Rollback()

	todo := b.Jobs
	if !c.opts.Ledger.Disabled {
		if err := c.ledger.lock(ctx, tx); err != nil {
			return res, ledgerFault(fmt.Errorf("lock ledger %s: %w", c.ledger.name(), err))
		}
		loaded, err := c.ledger.loaded(ctx, tx, b.Jobs)
		if err != nil {
			return res, ledgerFault(fmt.Errorf("read ledger %s: %w", c.ledger.name(), err))
		}
		if len(loaded) > 0 {
			res.Skipped = loaded
			todo = nil
			for _, j := range b.Jobs {
				if !loaded[j.ID] {
					todo = append(todo, j)
				}
			}
			if len(todo) > 0 && mKey != "" {
				// Rare (a retry after a lost commit): list only what is left.
				mKey = manifestKey(c.opts.Manifest.Prefix, b.ID+"-rest")
				if err := putManifest(ctx, c.manifests(), mBucket, mKey, manifestBody(todo, config.ColumnarFormat(b.Dest.SQLOption) != "")); err != nil {
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
			r, err := tx.ExecContext(ctx, s.SQL())
			if err != nil {
				return res, fmt.Errorf("COPY into %s from %s: %w", s.table, s.from, err)
			}
			if n, err := r.RowsAffected(); err == nil {
				res.Rows += n
			}
			if partial {
				if err := readSkippedRows(ctx, tx, todo, &res); err != nil {
					return res, err
				}
			}
		}
		if !c.opts.Ledger.Disabled {
			if err := c.ledger.record(ctx, tx, b.ID, todo, res, time.Now()); err != nil {
				return res, ledgerFault(fmt.Errorf("write ledger %s: %w", c.ledger.name(), err))
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

func (c *Copier) ensureLedger(ctx context.Context, endpoint string, db *sql.DB) error {
	if c.opts.Ledger.Disabled {
		return nil
	}
	return c.ensured.once(endpoint, func() error { return c.ledger.ensure(ctx, db) })
}

// removeManifest deletes a manifest once its COPY is over. It runs after
// the transaction ended, committed or not: a retry writes a new manifest.
func (c *Copier) removeManifest(bucket, key string) {
	removeManifest(c.opts.Store, c.log, bucket, key)
}
