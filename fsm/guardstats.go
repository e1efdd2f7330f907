package fsm

// GuardStats count a Copier's waits for the guard that makes a load
// exactly-once: in Redshift, the lock on the table's ledger, held while
// another load of the same table (by this or another rin) runs. A load
// waits for its guard before its COPY starts; batch.lock_timeout bounds the
// wait, batch.copy_timeout only what follows.
type GuardStats struct {
	// Wait is how long each load waited for its guard, in seconds (bounds
	// GuardBuckets), timed-out waits included.
	Wait Histogram
	// Timeouts counts waits given up at batch.lock_timeout.
	Timeouts int64
}

// GuardReporter is a Copier that reports its guard waits; Engine.Stats
// includes them.
type GuardReporter interface {
	GuardStats() GuardStats
}

// GuardBuckets are the bounds, in seconds, of GuardStats.Wait: no wait at
// all for a table nobody else loads, up to a COPY's duration (seconds to
// minutes) behind another load of the same table.
func GuardBuckets() []float64 {
	return []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600}
}

// Add sums two Copiers' stats (the drivers behind one dispatcher). Waits
// counted over other bounds than GuardBuckets are left out of the sum.
func (g GuardStats) Add(o GuardStats) GuardStats {
	out := GuardStats{Timeouts: g.Timeouts + o.Timeouts, Wait: Histogram{Bounds: GuardBuckets()}}
	out.Wait.Counts = make([]uint64, len(out.Wait.Bounds)+1)
	for _, h := range []Histogram{g.Wait, o.Wait} {
		if len(h.Counts) != len(out.Wait.Counts) {
			continue
		}
		for i, n := range h.Counts {
			out.Wait.Counts[i] += n
		}
		out.Wait.Sum += h.Sum
		out.Wait.Count += h.Count
	}
	return out
}
