package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rinhq/rin/admin"
	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/journal"
	"github.com/rinhq/rin/sqsx"
)

// localEngine is the engine rin backfill runs on the journal when no rin
// holds it: the daemon's engine, options and Copier, in batch mode, fed by
// Submit alone. Its queue yields nothing.
type localEngine struct {
	j      *journal.Journal
	engine *fsm.Engine
	queue  *idleQueue
	cancel context.CancelFunc
	// finished is closed when Run returns, with its error in err.
	finished chan struct{}
	err      error
}

// startLocal opens the journal and starts the engine. A journal in use
// means a rin runs that backfill could not reach through its socket.
func startLocal(ctx context.Context, t *tool) (*localEngine, error) {
	cfg := t.cfg
	j, err := journal.Open(cfg.Journal.Path, journal.Options{})
	if err != nil {
		return nil, fmt.Errorf("%w (is rin running with admin.disabled? backfill hands its jobs to a running rin through the admin socket)", err)
	}
	opts := fsm.OptionsFromConfig(cfg)
	opts.Logger = t.log
	opts.Receive.Receivers = 1
	opts.BatchMode = true
	q := &idleQueue{listed: make(chan struct{})}
	l := &localEngine{j: j, engine: fsm.New(j, q, cfg, t.copier, opts), queue: q, finished: make(chan struct{})}
	runCtx, cancel := context.WithCancel(ctx)
	l.cancel = cancel
	go func() { l.err = l.engine.Run(runCtx); close(l.finished) }()
	t.log.Info("no rin answers on the admin socket: backfill loads through its own engine", "socket", cfg.Admin.Socket, "journal", cfg.Journal.Path)
	return l, nil
}

// sink is what backfill submits to and follows.
func (l *localEngine) sink() *admin.Local { return &admin.Local{Journal: l.j, Engine: l.engine} }

// listed tells the engine that no more jobs will come: once they are done,
// batch mode may end, and batches need not wait to fill.
func (l *localEngine) listed() { l.queue.close() }

// stop ends the engine gracefully — running COPYs finish, jobs not loaded
// stay in the journal for the next rin — and closes the journal.
func (l *localEngine) stop() error {
	l.listed()
	l.cancel()
	<-l.finished
	err := l.err
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return errors.Join(err, l.j.Close())
}

// idleQueue is the fsm.Queue of backfill's engine: nothing arrives on it.
// Receive waits until the listing is over, so that batch mode cannot end
// the engine between two submissions, then reports an empty queue.
//
// The journal may hold messages of an earlier rin run, whose jobs this
// engine loads like any pending job. It cannot delete them: it reports
// their handles stale, which the engine takes as "SQS redelivers it, and
// its jobs, being done, get it deleted then" — which is what the next rin
// does.
type idleQueue struct {
	listed chan struct{}
	once   sync.Once
}

func (q *idleQueue) close() { q.once.Do(func() { close(q.listed) }) }

func (q *idleQueue) Receive(ctx context.Context, _ int32, _, _ time.Duration) ([]sqsx.Message, error) {
	select {
	case <-q.listed:
		return nil, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (q *idleQueue) Delete(_ context.Context, handles []string) (map[string]error, error) {
	out := make(map[string]error, len(handles))
	for _, h := range handles {
		out[h] = sqsx.ErrStaleHandle
	}
	return out, nil
}

func (q *idleQueue) ChangeVisibility(context.Context, []string, time.Duration) (map[string]error, error) {
	return nil, nil
}
