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
	Superseded      int64 // jobs not loaded because a newer version of their object loads
	Removed         int64 // jobs not loaded because their object was deleted first
	MessagesDeleted int64
	TransientErrors int64 // COPYs that failed for their environment or statement, not an object
	ReceiveErrors   int64
	DeleteErrors    int64
	Copies          int64
	CopyFailures    int64
	// CopyDuration is the duration of each COPY transaction, in seconds
	// (bounds CopyBuckets).
	CopyDuration Histogram
	// Targets are the per-target counters, by target name ("targets[0]"):
	// a dashboard must tell which target loads, lags or fails.
	Targets map[string]TargetStats
	Pending int
	// OldestMessageAgeSeconds is the age (from SQS's SentTimestamp) of the
	// oldest message rin holds undeleted; RetentionSeconds the queue's
	// retention (0: unknown).
	OldestMessageAgeSeconds float64
	RetentionSeconds        float64
	// Guard is the Copier's waits for its exactly-once guard (zero when
	// the Copier is not a GuardReporter).
	Guard GuardStats
}

// TargetStats are one target's counters.
type TargetStats struct {
	Copied      int64 // jobs whose COPY committed
	Rows        int64 // rows loaded (a batch's rows go to its first job's target)
	RowsSkipped int64 // rows skipped under MAXERROR
	Failed      int64 // jobs parked failed
	Superseded  int64 // jobs superseded by a newer version of their object
	Removed     int64 // jobs whose object was deleted before its COPY
	// Latency is, per acked job, the time from its S3 event to the COMMIT
	// that loaded it, in seconds (bounds LatencyBuckets).
	Latency Histogram
}

// Stats returns a snapshot of the counters.
func (e *Engine) Stats() Stats {
	// The Copier's own counters are read outside the engine's lock: the
	// engine never holds it while calling into the Copier.
	var guard GuardStats
	if g, ok := e.copier.(GuardReporter); ok {
		guard = g.GuardStats()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.stats
	s.CopyDuration = s.CopyDuration.clone()
	s.Targets = make(map[string]TargetStats, len(e.stats.Targets))
	for name, t := range e.stats.Targets {
		t.Latency = t.Latency.clone()
		s.Targets[name] = t
	}
	s.Pending = e.jobs.len()
	s.OldestMessageAgeSeconds = e.oldestMessage(time.Now()).Seconds()
	s.RetentionSeconds = e.opts.Receive.Retention.Seconds()
	s.Guard = guard
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

// targetStats returns a target's counters, to be stored back with
// setTarget (a map value cannot be updated in place). Callers hold e.mu.
func (s *Stats) targetStats(name string) TargetStats {
	t, ok := s.Targets[name]
	if !ok {
		t.Latency = newHistogram(LatencyBuckets())
	}
	return t
}

func (s *Stats) setTarget(name string, t TargetStats) {
	if s.Targets == nil {
		s.Targets = map[string]TargetStats{}
	}
	s.Targets[name] = t
}

// copied counts a committed batch: its jobs, its rows and the rows
// MAXERROR skipped, in total and per target. A batch's jobs share a
// table, almost always a target too; when two targets name one table, the
// rows (which Redshift reports per COPY) go to the first job's target.
func (s *Stats) copied(jobs []journal.Job, rows int64) {
	s.Copied += int64(len(jobs))
	s.Rows += rows
	for i, j := range jobs {
		s.RowsSkipped += j.SkippedRows
		t := s.targetStats(j.Target)
		t.Copied++
		t.RowsSkipped += j.SkippedRows
		if i == 0 {
			t.Rows += rows
		}
		s.setTarget(j.Target, t)
	}
}

// failed counts a job parked failed.
func (s *Stats) failed(target string) {
	s.Failed++
	t := s.targetStats(target)
	t.Failed++
	s.setTarget(target, t)
}

// ended counts a job that ended superseded or removed.
func (s *Stats) ended(target string, st journal.State) {
	t := s.targetStats(target)
	switch st {
	case journal.Superseded:
		s.Superseded++
		t.Superseded++
	case journal.Removed:
		s.Removed++
		t.Removed++
	}
	s.setTarget(target, t)
}

func (e *Engine) observeCopy(d time.Duration, err error) {
	e.count(func(s *Stats) {
		if s.CopyDuration.Counts == nil {
			s.CopyDuration = newHistogram(CopyBuckets())
		}
		s.CopyDuration.observe(d.Seconds())
		s.Copies++
		if err != nil {
			s.CopyFailures++
		}
	})
}

func (e *Engine) observeLag(j journal.Job) {
	if j.EventTime.IsZero() || j.CopiedAt.IsZero() {
		return
	}
	lag := j.CopiedAt.Sub(j.EventTime).Seconds()
	e.count(func(s *Stats) {
		t := s.targetStats(j.Target)
		t.Latency.observe(lag)
		s.setTarget(j.Target, t)
	})
}
