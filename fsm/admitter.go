package fsm

import (
	"context"
	"sync"
	"time"

	"github.com/rinhq/rin/sqsx"
)

// Receivers do not journal what they receive themselves: they hand it to
// one admitter and go back to SQS at once, and the admitter journals all
// that arrived meanwhile in one transaction. A commit has a fixed cost (two
// fsyncs and the pages above the leaves it touches) that one receive of ten
// messages used to pay alone; with every receive waiting for its own
// commit, that was the largest share of rin's CPU per object. The admitter
// lingers briefly for company: new jobs wait for a batch anyway (batch
// max_age is seconds), so a few milliseconds cost nothing.
const (
	// admitLinger is how long the admitter waits for more messages after
	// the first one arrives.
	admitLinger = 10 * time.Millisecond
	// admitMaxMessages ends the linger early.
	admitMaxMessages = 200
	// admitQueueCap makes receivers wait while this many messages await
	// admission (the journal is slower than SQS, for instance).
	admitQueueCap = 1000
)

// admitQueue holds received messages on their way into the journal. Its
// fields are guarded by Engine.mu.
type admitQueue struct {
	msgs []sqsx.Message
	busy bool  // the admitter is journaling a batch
	err  error // the journal failed: admission stops for good
	// done is signalled (on Engine.mu) whenever a batch is over.
	done *sync.Cond
	wake chan struct{}
}

// enqueueAdmission hands msgs to the admitter. It waits while the queue is
// full; it fails once admission has failed.
func (e *Engine) enqueueAdmission(msgs []sqsx.Message) error {
	e.mu.Lock()
	for len(e.adq.msgs) >= admitQueueCap && e.adq.err == nil {
		e.adq.done.Wait()
	}
	if err := e.adq.err; err != nil {
		e.mu.Unlock()
		return err
	}
	e.adq.msgs = append(e.adq.msgs, msgs...)
	e.mu.Unlock()
	e.signal(e.adq.wake)
	return nil
}

// flushAdmissions waits until every message handed over so far is
// journaled (or admission has failed). A receiver calls it before it judges
// the queue drained and before it stops, so that "no receiver is left"
// still means "everything received is in the journal".
func (e *Engine) flushAdmissions() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for (len(e.adq.msgs) > 0 || e.adq.busy) && e.adq.err == nil {
		e.adq.done.Wait()
	}
	return e.adq.err
}

// admitLoop journals queued messages until stop is closed, which Run does
// once every receiver has flushed and returned. A journal failure is fatal.
func (e *Engine) admitLoop(ctx context.Context, stop <-chan struct{}, fail func(error)) {
	for {
		select {
		case <-e.adq.wake:
		case <-stop:
			return
		}
		e.linger()
		e.mu.Lock()
		batch := e.adq.msgs
		e.adq.msgs = nil
		e.adq.busy = len(batch) > 0
		e.mu.Unlock()
		if len(batch) == 0 {
			continue
		}
		err := e.admit(ctx, batch)
		e.mu.Lock()
		e.adq.busy = false
		if err != nil {
			e.adq.err = err
		}
		e.adq.done.Broadcast()
		e.mu.Unlock()
		if err != nil {
			fail(err)
			return
		}
	}
}

// linger waits up to admitLinger for admitMaxMessages to queue up.
func (e *Engine) linger() {
	t := time.NewTimer(admitLinger)
	defer t.Stop()
	for {
		e.mu.Lock()
		n := len(e.adq.msgs)
		e.mu.Unlock()
		if n >= admitMaxMessages {
			return
		}
		select {
		case <-t.C:
			return
		case <-e.adq.wake:
		}
	}
}
