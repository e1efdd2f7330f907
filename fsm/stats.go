package fsm

import (
	"time"

	"github.com/rinhq/rin/journal"
)

// Stats are the engine's counters since it started.
type Stats struct {
	Messages        int64
	Rejected        int64
	JobsAdmitted    int64
	Duplicates      int64
	Copied          int64
	Rows            int64
	RowsSkipped     int64 // rows rejected under MAXERROR by COPYs that committed
	Acked           int64
	Failed          int64
	MessagesDeleted int64
	TransientErrors int64 // COPYs that failed for their environment or statement, not an object
	ReceiveErrors   int64
	DeleteErrors    int64
	Copies          int64
	CopyFailures    int64
	CopySeconds     float64
	// CopyDurations counts COPYs by duration: CopyDurations[i] counts those
	// of at most CopyBuckets[i] seconds (cumulative, as Prometheus wants);
	// the last entry counts them all.
	CopyDurations []int64
	LagSeconds    float64 // sum over acked jobs, S3 event time → acked
	LagCount      int64
	Pending       int
	// OldestMessageAgeSeconds is the age (from SQS's SentTimestamp) of the
	// oldest message rin holds undeleted; RetentionSeconds the queue's
	// retention (0: unknown).
	OldestMessageAgeSeconds float64
	RetentionSeconds        float64
}

// Stats returns a snapshot of the counters.
func (e *Engine) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.stats
	s.CopyDurations = append([]int64(nil), s.CopyDurations...)
	s.Pending = len(e.jobs)
	s.OldestMessageAgeSeconds = e.oldestMessage(time.Now()).Seconds()
	s.RetentionSeconds = e.opts.Receive.Retention.Seconds()
	return s
}

// Holds lists the scopes held now (endpoints, tables, credentials, buckets
// behind an open breaker), sorted by scope and name.
func (e *Engine) Holds() []Hold {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.holds.list()
}

func (e *Engine) count(fn func(*Stats)) {
	e.mu.Lock()
	fn(&e.stats)
	e.mu.Unlock()
}

// CopyBuckets are the upper bounds, in seconds, of Stats.CopyDurations.
var CopyBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}

func (e *Engine) observeCopy(d time.Duration, err error) {
	e.count(func(s *Stats) {
		if s.CopyDurations == nil {
			s.CopyDurations = make([]int64, len(CopyBuckets)+1)
		}
		for i, b := range CopyBuckets {
			if d.Seconds() <= b {
				s.CopyDurations[i]++
			}
		}
		s.CopyDurations[len(CopyBuckets)]++
		s.Copies++
		s.CopySeconds += d.Seconds()
		if err != nil {
			s.CopyFailures++
		}
	})
}

func (e *Engine) observeLag(j journal.Job) {
	if j.EventTime.IsZero() || j.CopiedAt.IsZero() {
		return
	}
	e.count(func(s *Stats) {
		s.LagSeconds += j.CopiedAt.Sub(j.EventTime).Seconds()
		s.LagCount++
	})
}
