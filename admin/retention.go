package admin

import (
	"context"
	"log/slog"
	"time"

	"github.com/rinhq/rin/journal"
)

// Retention applies journal.retention inside rin: acked jobs older than
// Keep are forgotten at start and then every Every, so the journal does not
// grow without bound when nobody runs rin-journal forget.
type Retention struct {
	Journal *journal.Journal
	// Keep is the dedupe window (journal.retention). Forgetting an acked
	// job means a redelivery of its S3 event after that would be loaded
	// again unless the Redshift ledger stops it.
	Keep time.Duration
	// Every is the interval between passes; 0 means an hour.
	Every  time.Duration
	Logger *slog.Logger
}

// Run forgets until ctx is cancelled. A failed pass is logged and retried
// at the next interval: retention is housekeeping, never a reason to stop
// loading.
func (r Retention) Run(ctx context.Context) {
	if r.Keep <= 0 {
		return
	}
	every := r.Every
	if every <= 0 {
		every = time.Hour
	}
	log := r.Logger
	if log == nil {
		log = slog.Default()
	}
	l := &Local{Journal: r.Journal}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		res, err := l.Forget(ctx, r.Keep)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("journal retention pass failed", "err", err)
		case res.Forgotten > 0:
			log.Info("journal retention: forgot acked jobs", "jobs", res.Forgotten, "older_than", r.Keep, "cutoff", res.Cutoff)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
