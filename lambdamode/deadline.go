package lambdamode

import "time"

// Bounds of the stop margin derived from the time an invocation has.
const (
	minMargin = time.Second
	maxMargin = time.Minute
	// reserve is the part of the margin kept for what follows the engine:
	// its last ack pass, reading the outcome from the journal, removing it,
	// and sending the response.
	minReserve = 100 * time.Millisecond
	maxReserve = 5 * time.Second
)

// stopPlan says when an invocation stops starting COPYs (stopAt) and how
// long COPYs running then may go on (grace, the engine's ShutdownGrace).
// A COPY still running after that is cancelled: its transaction rolls back,
// or, if its COMMIT raced the cancel, the ledger holds its jobs and the
// redelivered records load nothing twice.
type stopPlan struct {
	stopAt time.Time // zero: no deadline
	grace  time.Duration
}

// planStop derives the plan from the invocation's deadline. The margin is a
// fifth of the time left, between 1s and 1m, unless margin is set; either
// way at most half the time left, so a short timeout still loads. Of the
// margin, a quarter (100ms to 5s) is kept for returning; the rest is the
// grace for running COPYs.
func planStop(now, deadline time.Time, hasDeadline bool, margin time.Duration) stopPlan {
	if !hasDeadline {
		return stopPlan{} // the engine's default grace
	}
	left := deadline.Sub(now)
	if margin <= 0 {
		margin = min(max(left/5, minMargin), maxMargin)
	}
	margin = max(min(margin, left/2), 0)
	reserve := min(max(margin/4, minReserve), maxReserve, margin)
	// A zero ShutdownGrace would mean the engine's default (30s).
	grace := max(margin-reserve, time.Millisecond)
	return stopPlan{stopAt: deadline.Add(-margin), grace: grace}
}
