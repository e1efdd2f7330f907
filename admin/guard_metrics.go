package admin

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rinhq/rin/fsm"
)

// A load waits for its table's exactly-once guard before its COPY starts:
// the lock on the table's ledger, held while another load of the same
// table (by this rin or another) runs. Loads of different tables never wait
// for each other, so a wait that grows means one table is loaded by more
// COPYs than it can take, or one of its COPYs is slow; timeouts mean waits
// reached batch.lock_timeout.

const guardWaitHelp = "Time each load waited for its table's guard (another load of the same table holding it) before its COPY started."

// guardWaitHistogram is rin_guard_wait_seconds, with zero buckets before
// the first load rather than an absent family.
func guardWaitHistogram(d *prometheus.Desc, g fsm.GuardStats) prometheus.Metric {
	h := g.Wait
	if h.Bounds == nil {
		h.Bounds = fsm.GuardBuckets()
	}
	return prometheus.MustNewConstHistogram(d, h.Count, h.Sum, h.Cumulative())
}
