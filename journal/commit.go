package journal

import (
	"fmt"
	"sync"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// committer group-commits Update calls: one goroutine runs every call that
// arrived while the previous commit was syncing, in one transaction and one
// fsync. Unlike bbolt's Batch, it never waits for company (Batch holds each
// call up to MaxBatchDelay, 10 ms, before committing): a lone call commits at
// once, and under load the batches grow by themselves, as large as the calls
// that queue up behind one fsync. That is what keeps both the latency of one
// receive and the cost per transition low.
type committer struct {
	db *bolt.DB

	mu      sync.Mutex
	queue   []call
	running bool // the loop goroutine is draining the queue
	closed  bool
	idle    sync.WaitGroup // the loop goroutine, for close
}

type call struct {
	fn  func(*bolt.Tx) error
	err chan error
}

// do runs fn in a group commit and returns its outcome: nil once fn's writes
// are on disk.
func (c *committer) do(fn func(*bolt.Tx) error) error {
	done := make(chan error, 1)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return berrors.ErrDatabaseNotOpen
	}
	c.queue = append(c.queue, call{fn: fn, err: done})
	if !c.running {
		c.running = true
		c.idle.Add(1)
		go c.loop()
	}
	c.mu.Unlock()
	return <-done
}

// loop commits the queue until it is empty.
func (c *committer) loop() {
	defer c.idle.Done()
	for {
		c.mu.Lock()
		calls := c.queue
		c.queue = nil
		if len(calls) == 0 {
			c.running = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		c.commit(calls)
	}
}

// commit runs calls in one transaction. A call that fails is taken out and
// run on its own, so it gets its own error and the others still commit
// together (they run again: fn must only depend on what it reads in tx).
func (c *committer) commit(calls []call) {
	for len(calls) > 0 {
		failed := -1
		err := c.db.Update(func(tx *bolt.Tx) error {
			for i, cl := range calls {
				if err := safely(cl.fn, tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed < 0 || len(calls) == 1 {
			for _, cl := range calls {
				cl.err <- err
			}
			return
		}
		solo := calls[failed]
		calls = append(calls[:failed:failed], calls[failed+1:]...)
		solo.err <- c.db.Update(func(tx *bolt.Tx) error { return safely(solo.fn, tx) })
	}
}

// close waits for queued calls to commit and refuses new ones.
func (c *committer) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.idle.Wait()
}

// safely runs fn, turning a panic into an error so one bad call cannot take
// down the calls it shares a transaction with.
func safely(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("journal: panic in transaction: %v", r)
		}
	}()
	return fn(tx)
}
