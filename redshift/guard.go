package redshift

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/lib/pq"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/fsm"
)

// The guard of a load is the lock on its table's ledger, taken first thing
// in the load's transaction and held until it ends (see the package doc).
// Waiting for it is waiting for another load of the same table to finish,
// which can take as long as that COPY: its own bound, batch.lock_timeout,
// applies, and batch.copy_timeout starts only once the guard is held.
//
// Both bounds are enforced twice: by the session's statement_timeout, so
// that Redshift itself cancels a statement whose client is gone, and by a
// context deadline a little later, so that rin gives up even when the
// server does not answer.

// Timeouts bound one load.
type Timeouts struct {
	Lock time.Duration // waiting for the guard (batch.lock_timeout)
	Copy time.Duration // from the guard taken to COMMIT (batch.copy_timeout)
}

// withDefaults fills unset bounds with the config's defaults.
func (t Timeouts) withDefaults() Timeouts {
	if t.Lock <= 0 {
		t.Lock = config.DefaultLockTimeout.D()
	}
	if t.Copy <= 0 {
		t.Copy = config.DefaultCopyTimeout.D()
	}
	return t
}

// clientGrace is how much later than the server's statement_timeout the
// client's own deadline falls: the server's cancellation, with its clear
// error, comes first when the server is there to give it.
const clientGrace = 5 * time.Second

// backstop bounds a whole Copy (manifest writes, the guard, the COPY, the
// commit): nothing may hang a load forever.
func (t Timeouts) backstop() time.Duration { return t.Lock + t.Copy + 2*clientGrace + time.Minute }

// setStatementTimeout sets the session's statement_timeout, in
// milliseconds as Redshift takes it.
func setStatementTimeout(ctx context.Context, tx *sql.Tx, d time.Duration) error {
	_, err := tx.ExecContext(ctx, "SET statement_timeout TO "+strconv.FormatInt(max(d.Milliseconds(), 1), 10))
	return err
}

// lockLedger takes the guard of ledger table name in tx, waiting at most
// t.Lock, and reports the wait to m. It then sets statement_timeout for
// the COPY.
func lockLedger(ctx context.Context, tx *sql.Tx, name string, t Timeouts, m *guardMeter) error {
	if err := setStatementTimeout(ctx, tx, t.Lock); err != nil {
		return err
	}
	lockCtx, cancel := context.WithTimeout(ctx, t.Lock+clientGrace)
	start := time.Now()
	_, err := tx.ExecContext(lockCtx, "LOCK "+name)
	waited := time.Since(start)
	timedOut := err != nil && ctx.Err() == nil && (isStatementTimeout(err) || errors.Is(lockCtx.Err(), context.DeadlineExceeded))
	cancel()
	m.observe(waited, timedOut)
	if timedOut {
		// Another load of this table holds it for longer than the bound:
		// retry this batch later, like any statement failure.
		return fsm.WithScope(fsm.ScopeStatement, fmt.Errorf("waited %s for the guard of this table (lock on %s; another load of the table holds it) past batch.lock_timeout (%s): %w",
			waited.Round(time.Millisecond), name, t.Lock, err))
	}
	if err != nil {
		return err
	}
	return setStatementTimeout(ctx, tx, t.Copy)
}

// guardMeter counts guard waits for /metrics (fsm.GuardStats). The zero
// value is ready to use.
type guardMeter struct {
	mu    sync.Mutex
	stats fsm.GuardStats
}

func (m *guardMeter) observe(d time.Duration, timedOut bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := &m.stats.Wait
	if h.Counts == nil {
		h.Bounds = fsm.GuardBuckets()
		h.Counts = make([]uint64, len(h.Bounds)+1)
	}
	s := d.Seconds()
	h.Counts[sort.SearchFloat64s(h.Bounds, s)]++
	h.Sum += s
	h.Count++
	if timedOut {
		m.stats.Timeouts++
	}
}

// snapshot returns a copy that does not change under its reader.
func (m *guardMeter) snapshot() fsm.GuardStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.stats
	s.Wait.Counts = append([]uint64(nil), s.Wait.Counts...)
	return s
}

// isStatementTimeout reports a statement cancelled by statement_timeout
// (or by rin's own cancel request): SQLSTATE 57014.
func isStatementTimeout(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && pe.Code == "57014"
}

// GuardStats sums the guard waits of the Copiers behind d, each counted
// once (one Copier serves all the endpoints of its driver).
func (d Dispatch) GuardStats() fsm.GuardStats {
	var sum fsm.GuardStats
	seen := map[fsm.GuardReporter]bool{}
	for _, c := range d {
		if g, ok := c.(fsm.GuardReporter); ok && !seen[g] {
			seen[g] = true
			sum = sum.Add(g.GuardStats())
		}
	}
	return sum
}

// GuardStats reports the guard waits of the Copier r wraps.
func (r Regional) GuardStats() fsm.GuardStats {
	if g, ok := r.Next.(fsm.GuardReporter); ok {
		return g.GuardStats()
	}
	return fsm.GuardStats{}
}

// GuardStats reports the guard waits of the Copier v wraps.
func (v Versions) GuardStats() fsm.GuardStats {
	if g, ok := v.Next.(fsm.GuardReporter); ok {
		return g.GuardStats()
	}
	return fsm.GuardStats{}
}
