package redshift

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/lib/pq"

	"github.com/rinhq/rin/journal"
)

// Older rins kept the loads of every table in one shared ledger table
// (ledger.table itself), read and written under a LOCK by every load. This
// version never writes it, but a job an older rin loaded must not load
// again, so while the shared table holds rows each load asks it too, under
// every id the job may have had (journal.Job.IDs).
//
// It is read before the load's transaction, not inside: nothing writes it
// any more (every older rin must be stopped before this one starts; see the
// README), so the answer cannot change in between, and reading it outside
// keeps it out of every load's read set. Loads of different tables then
// share no table at all, and pruning it never waits for a load. Once
// pruning has emptied it (after the dedupe window), it is not read again.

// legacyLedgers remembers, per endpoint, whether the shared ledger holds
// rows. The zero value is ready to use.
type legacyLedgers struct {
	mu    sync.Mutex
	holds map[string]bool // endpoint → holds rows; absent: not checked yet
}

// check returns whether endpoint's shared ledger holds rows, asking probe
// the first time.
func (s *legacyLedgers) check(endpoint string, probe func() (bool, error)) (bool, error) {
	s.mu.Lock()
	h, ok := s.holds[endpoint]
	s.mu.Unlock()
	if ok {
		return h, nil
	}
	h, err := probe()
	if err != nil {
		return false, err
	}
	s.set(endpoint, h)
	return h, nil
}

// set records what is now known of endpoint's shared ledger.
func (s *legacyLedgers) set(endpoint string, holds bool) {
	s.mu.Lock()
	if s.holds == nil {
		s.holds = map[string]bool{}
	}
	s.holds[endpoint] = holds
	s.mu.Unlock()
}

// known returns what is known of endpoint's shared ledger: false when it
// holds no rows or was not checked yet.
func (s *legacyLedgers) known(endpoint string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.holds[endpoint]
}

// forget makes the next check of endpoint probe again.
func (s *legacyLedgers) forget(endpoint string) {
	s.mu.Lock()
	delete(s.holds, endpoint)
	s.mu.Unlock()
}

// legacyHolds probes, through lib/pq, whether the shared ledger exists and
// holds any row.
func (l ledger) legacyHolds(ctx context.Context, db *sql.DB) (bool, error) {
	if ok, err := tableExists(ctx, db, l.schemaOrPublic(), l.table); err != nil || !ok {
		return false, err
	}
	var one int
	err := db.QueryRowContext(ctx, "SELECT 1 FROM "+l.legacyName()+" LIMIT 1").Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows), isMissingTable(err):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// isMissingTable reports a lib/pq "relation does not exist" (or schema).
func isMissingTable(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && (pe.Code == "42P01" || pe.Code == "3F000")
}

// legacyLoaded asks the shared ledger of older rins, while it holds rows,
// which of jobs it recorded (legacy.go).
func (c *Copier) legacyLoaded(ctx context.Context, endpoint string, db *sql.DB, jobs []journal.Job) (map[string]bool, error) {
	if c.opts.Ledger.Disabled {
		return nil, nil
	}
	holds, err := c.legacy.check(endpoint, func() (bool, error) { return c.ledger.legacyHolds(ctx, db) })
	if err != nil {
		return nil, ledgerFault(fmt.Errorf("read ledger %s: %w", c.ledger.legacyName(), err))
	}
	if !holds {
		return nil, nil
	}
	got, err := loaded(ctx, db, c.ledger.legacyName(), jobs)
	if isMissingTable(err) {
		c.legacy.set(endpoint, false) // dropped by a person: nothing to honour
		return nil, nil
	}
	if err != nil {
		return nil, ledgerFault(fmt.Errorf("read ledger %s: %w", c.ledger.legacyName(), err))
	}
	return got, nil
}

// without returns jobs less those whose ids are in drop.
func without(jobs []journal.Job, drop map[string]bool) []journal.Job {
	if len(drop) == 0 {
		return jobs
	}
	out := make([]journal.Job, 0, len(jobs))
	for _, j := range jobs {
		if !drop[j.ID] {
			out = append(out, j)
		}
	}
	return out
}
