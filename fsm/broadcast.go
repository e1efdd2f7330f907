package fsm

import "sync"

// broadcast wakes every goroutine waiting on it at once, where the wake
// channels (signal) wake one. Batch mode's end uses it: each receiver
// pausing between polls of a queue another rin still holds, and Run
// watching for the end, are all woken when this engine's last messages are
// deleted, instead of finding out at their next tick.
type broadcast struct {
	mu sync.Mutex
	ch chan struct{}
}

// wait returns a channel closed at the next fire. Take it before checking
// the condition it guards, so that a fire in between is not missed.
func (b *broadcast) wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch == nil {
		b.ch = make(chan struct{})
	}
	return b.ch
}

// fire wakes everyone waiting.
func (b *broadcast) fire() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch != nil {
		close(b.ch)
		b.ch = nil
	}
}
