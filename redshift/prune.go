package redshift

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"time"

	"github.com/rinhq/rin/config"
)

// The ledger only has to remember a load for as long as something may ask
// about it again: a redelivered event is at most SQS's retention (14 days)
// old, and a job stays in the journal for journal.retention. Rows older
// than ledger.retention (at least the sum of the two) are deleted, so a
// table's ledger holds about one window of loads however long rin runs, and
// its lookups stay cheap.
//
// A prune is a transaction of its own — never part of a load, whose COPY it
// would lengthen — and takes the table's guard first, like a load: loads
// of the table wait for it and it waits for them, so a prune never runs
// beside a load of its table and the two cannot conflict (Redshift would
// abort one of two concurrent transactions that both read and write the
// ledger). It is rate-limited: at most one prune of a ledger table per
// ledger.prune_interval per Copier, and one at a time, started after a
// load of that table commits. Redshift's automatic vacuum reclaims the
// deleted rows.

// pruneSchedule decides when a ledger table is due. The zero value is
// ready to use.
type pruneSchedule struct {
	mu      sync.Mutex
	last    map[string]time.Time // by endpoint and table
	running bool
}

// claim reports whether key may be pruned now and, if so, marks it
// running; done must follow.
func (p *pruneSchedule) claim(key string, now time.Time, every time.Duration) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running {
		return false
	}
	if last, ok := p.last[key]; ok && now.Sub(last) < every {
		return false
	}
	if p.last == nil {
		p.last = map[string]time.Time{}
	}
	p.last[key] = now
	p.running = true
	return true
}

func (p *pruneSchedule) done() {
	p.mu.Lock()
	p.running = false
	p.mu.Unlock()
}

// pruneWindow returns the ledger retention and prune interval of cfg, with
// the defaults for unset values.
func pruneWindow(cfg config.Ledger) (keep, every time.Duration) {
	keep, every = cfg.Retention.D(), cfg.PruneInterval.D()
	if keep <= 0 {
		keep = (config.DefaultJournalRetention + config.SQSMaxRetention).D()
	}
	if every <= 0 {
		every = config.DefaultPruneInterval.D()
	}
	return keep, every
}

// cutoffLiteral is the TIMESTAMP before which ledger rows are pruned, as
// the UTC text rin writes loaded_at in.
func cutoffLiteral(now time.Time, keep time.Duration) string {
	return now.Add(-keep).UTC().Format("2006-01-02 15:04:05")
}

// pruneSQL deletes a ledger table's rows older than the cutoff ($1).
func pruneSQL(name string) string {
	return "DELETE FROM " + name + " WHERE loaded_at < CAST($1 AS TIMESTAMP)"
}

// pruneJob is what a background prune needs of its driver.
type pruneJob struct {
	schedule *pruneSchedule
	bg       *sync.WaitGroup
	closing  context.Context
	bound    time.Duration // the whole prune's deadline
	log      *slog.Logger
	legacy   string // the shared ledger of older rins, among the names
	// prune deletes rows of ledger table name loaded before cutoff.
	prune func(ctx context.Context, name, cutoff string) (int64, error)
	// legacyHolds reports whether the shared ledger still has rows;
	// legacyDone notes that it no longer needs reading.
	legacyHolds func(ctx context.Context) (bool, error)
	legacyDone  func()
}

// maybePrune starts, in the background, a prune of each of names (ledger
// tables of endpoint) that is due; both drivers share it. The legacy
// ledger's emptiness is noted after its prune.
func maybePrune(j pruneJob, keep, every time.Duration, endpoint string, names ...string) {
	now := time.Now()
	for _, name := range names {
		if !j.schedule.claim(endpoint+"\x00"+name, now, every) {
			continue
		}
		j.bg.Add(1)
		go func() {
			defer j.bg.Done()
			defer j.schedule.done()
			ctx, cancel := context.WithTimeout(j.closing, j.bound)
			defer cancel()
			n, err := j.prune(ctx, name, cutoffLiteral(now, keep))
			if err != nil {
				j.log.Warn("could not prune the ledger; it will be tried again", "table", name, "err", err)
				return
			}
			level := slog.LevelInfo
			if n == 0 {
				level = slog.LevelDebug
			}
			j.log.Log(ctx, level, "ledger pruned", "table", name, "rows_deleted", n, "older_than", config.Duration(keep).String())
			if name == j.legacy {
				if holds, err := j.legacyHolds(ctx); err == nil && !holds {
					j.log.Info("the shared ledger of older rin versions is empty; it is no longer read", "table", name)
					j.legacyDone()
				}
			}
		}()
		return
	}
}

// maybePrune prunes through lib/pq (see the package-level maybePrune).
func (c *Copier) maybePrune(endpoint string, db *sql.DB, names ...string) {
	keep, every := pruneWindow(c.opts.Ledger)
	maybePrune(pruneJob{
		schedule: &c.prunes, bg: &c.bg, closing: c.closing, bound: c.timeouts.backstop(), log: c.log,
		legacy:      c.ledger.legacyName(),
		prune:       func(ctx context.Context, name, cutoff string) (int64, error) { return c.prune(ctx, db, name, cutoff) },
		legacyHolds: func(ctx context.Context) (bool, error) { return c.ledger.legacyHolds(ctx, db) },
		legacyDone:  func() { c.legacy.set(endpoint, false) },
	}, keep, every, endpoint, names...)
}

// prune deletes ledger table name's rows loaded before cutoff, under the
// table's guard, and returns how many.
func (c *Copier) prune(ctx context.Context, db *sql.DB, name, cutoff string) (int64, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var waits guardMeter // a prune's wait is not a load's: not on /metrics
	if err := lockLedger(ctx, tx, name, c.timeouts, &waits); err != nil {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, pruneSQL(name), cutoff)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return n, tx.Commit()
}
