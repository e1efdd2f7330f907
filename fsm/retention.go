package fsm

import "time"

// SQS deletes a message when it reaches the queue's retention period (4
// days by default, 14 at most), whether or not it was handled, and leaves
// no trace. A scope held for days, or a receiver paused behind a backlog,
// can let messages age toward that; rin must say so long before, not
// discover the loss.

// retentionWarnAt is the share of the retention at which rin warns and
// /healthz reports degraded.
const retentionWarnAt = 0.75

// retentionWarnEvery bounds the warning's repetition.
const retentionWarnEvery = 5 * time.Minute

// oldestMessage returns the age of the oldest message rin holds undeleted.
// Callers hold e.mu.
func (e *Engine) oldestMessage(now time.Time) time.Duration {
	var oldest time.Duration
	for m := range e.msgs.all() {
		if a := m.age(now); a > oldest {
			oldest = a
		}
	}
	return oldest
}

// RetentionAtRisk reports whether the oldest undeleted message has reached
// retentionWarnAt of the queue's retention, with both figures.
func (s Stats) RetentionAtRisk() bool {
	return s.RetentionSeconds > 0 && s.OldestMessageAgeSeconds >= retentionWarnAt*s.RetentionSeconds
}

// watchRetention logs a warning, at most every retentionWarnEvery, while
// the oldest undeleted message is past retentionWarnAt of the retention.
func (e *Engine) watchRetention(now time.Time) {
	if e.opts.Receive.Retention <= 0 {
		return
	}
	e.mu.Lock()
	oldest := e.oldestMessage(now)
	due := now.Sub(e.retentionWarned) >= retentionWarnEvery
	if !due || oldest.Seconds() < retentionWarnAt*e.opts.Receive.Retention.Seconds() {
		e.mu.Unlock()
		return
	}
	e.retentionWarned = now
	holds := e.holds.list()
	e.mu.Unlock()
	held := make([]string, 0, len(holds))
	for _, h := range holds {
		held = append(held, h.Scope+" "+h.Name+": "+h.LastError)
	}
	e.log.Warn("messages near the queue's retention: SQS deletes them unread at the limit; fix what holds them or raise MessageRetentionPeriod",
		"oldest_message_age", oldest.Round(time.Second), "retention", e.opts.Receive.Retention,
		"deleted_in", (e.opts.Receive.Retention - oldest).Round(time.Second), "held", held)
}
