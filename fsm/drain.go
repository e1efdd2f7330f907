package fsm

import (
	"context"
	"time"
)

// Batch mode's end. "Process until the queue is empty" must include
// messages other rins (or a dead one) still hold, so after an empty receive
// the receivers poll on while the queue reports messages this engine does
// not hold (drained), pausing between polls (drainWatch). The pauses trade
// requests against how late rin sees the last delete: a queue held by a
// dead rin is polled about once a long poll; a queue another rin is
// emptying is polled when, at the pace its depth falls, it will be empty.

// counter is implemented by queues that can report their depth (sqsx).
type counter interface {
	ApproximateCounts(ctx context.Context) (visible, inFlight int, err error)
}

// drained decides, after an empty receive in batch mode, whether the queue
// is really empty. An empty receive is not enough: messages received but
// not deleted — by a rin killed a moment ago, or lost in a broken response
// (goaws does that under load) — are invisible until their visibility
// timeout passes, and "process until the queue is empty" must include them.
// So batch mode keeps polling while the queue reports messages that this
// engine does not hold; -max-execution-time bounds the wait.
// It also returns the depth it read (visible + in flight), how many of
// those messages this engine holds (inQueue), and pacing.brought.
func (e *Engine) drained(ctx context.Context) (done bool, depth, held, receives int) {
	e.mu.Lock()
	receives = e.pace.brought
	e.mu.Unlock()
	c, ok := e.queue.(counter)
	if !ok {
		return true, 0, 0, receives
	}
	visible, inFlight, err := c.ApproximateCounts(ctx)
	if err != nil {
		e.log.Warn("cannot read the queue's depth; taking the empty receive as drained", "err", err)
		return true, 0, 0, receives
	}
	// What this engine holds counts only as far as it is surely still in
	// the queue: a message under deletion may be gone from the depth read
	// already while still held, and counting it would hide as many of
	// others' messages.
	e.mu.Lock()
	held = e.msgs.inQueue()
	e.mu.Unlock()
	if visible+inFlight <= held {
		return true, visible + inFlight, held, receives
	}
	e.log.Debug("queue not drained yet; polling on", "visible", visible, "in_flight", inFlight, "held_by_rin", held)
	return false, visible + inFlight, held, receives
}

// drainWatch is one receiver's record, in batch mode, of the depths it
// read from a queue others still hold. The zero value has read none.
type drainWatch struct {
	receives int       // pacing.brought when the depths were read
	depth    int       // the depth last read
	at       time.Time // when; zero before the first read
	moved    time.Time // when the depth last changed
}

// minDrainPause is the least pause between two polls while others empty
// the queue: their deletes are batches of ten, milliseconds apart.
const minDrainPause = 10 * time.Millisecond

// next notes the depth read at now, held of it this engine's, with
// receives pacing.brought then, and returns how long to pause
// before the next poll: an eighth of the time the depth has stayed put
// (drainPause), or, while the depth falls, the time the others need at that
// pace to delete what they hold, if sooner. Without the second, rin saw
// another rin's last delete up to 100 ms late (the least quiet pause), on
// top of a run of a few seconds. A receive that brought messages since the
// last read (any receiver's) starts the record afresh: the queue was not
// quiet, whatever its depth.
func (w *drainWatch) next(depth, held, receives int, now time.Time, longPoll time.Duration) time.Duration {
	if receives != w.receives {
		*w = drainWatch{receives: receives}
	}
	if w.at.IsZero() || depth != w.depth {
		w.moved = now
	}
	pause := drainPause(now.Sub(w.moved), longPoll)
	if !w.at.IsZero() && depth < w.depth && now.After(w.at) {
		perSecond := float64(w.depth-depth) / now.Sub(w.at).Seconds()
		left := time.Duration(float64(max(depth-held, 0)) / perSecond * float64(time.Second))
		pause = min(pause, max(left, minDrainPause))
	}
	w.depth, w.at = depth, now
	return pause
}

// drainPause is how long batch mode waits before polling again a queue
// whose depth has stayed put for quiet while others hold its messages: an
// eighth of quiet, from 100 ms to longPoll. Doubling the pause instead, as
// rin once did, let the pause grow as long as the wait so far: after another
// rin's 1.3 s COPY, rin saw its deletes up to 0.8 s late.
func drainPause(quiet, longPoll time.Duration) time.Duration {
	return min(max(quiet/8, 100*time.Millisecond), max(longPoll, 100*time.Millisecond))
}

// pauseDraining waits d between batch mode's polls of a queue that others
// still hold, or less: until this engine deletes its last message, if it
// held some. Then the queue is worth a look at once — the others may have
// finished meanwhile — where this engine's own deletes before that cannot
// make the verdict yes (while they are under way, the messages count in
// the queue's depth but no longer as this engine's). It returns false when
// ctx ends. (A receive that brings messages does not end the pause: the
// receiver that made it long-polls next, which bounds how soon rin can see
// the end anyway.)
func (e *Engine) pauseDraining(ctx context.Context, d time.Duration) bool {
	holding := func() int {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.msgs.len()
	}
	if holding() == 0 {
		return sleep(ctx, d)
	}
	end := time.Now().Add(d)
	for {
		progress := e.progress.wait()
		left := time.Until(end)
		if holding() == 0 || left <= 0 {
			return ctx.Err() == nil
		}
		if !sleepOr(ctx, left, progress) {
			return false
		}
	}
}
