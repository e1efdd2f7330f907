package fsm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/journal"
	"github.com/rinhq/rin/sqsx"
)

// Queue is what the engine needs of SQS (package sqsx implements it).
type Queue interface {
	Receive(ctx context.Context, max int32, wait, visibility time.Duration) ([]sqsx.Message, error)
	Delete(ctx context.Context, handles []string) (map[string]error, error)
	ChangeVisibility(ctx context.Context, handles []string, timeout time.Duration) (map[string]error, error)
}

// Router maps an object to the targets that load it (package config).
type Router interface {
	Route(bucket, key string) []config.Route
}

// Copier loads a batch of jobs bound for one destination in one Redshift
// transaction, skipping (and reporting) jobs its ledger says are loaded.
// Package redshift implements it.
type Copier interface {
	Copy(ctx context.Context, b Batch) (Result, error)
}

// Destination is where a batch goes; jobs with equal destinations may share
// one COPY.
type Destination struct {
	Endpoint  string
	Schema    string
	Table     string
	SQLOption string
	Region    string
	Manifest  bool // load through a manifest of exact URLs
	// Bucket is the objects' bucket: a batch reads one bucket, so a fault
	// of that bucket (access denied, wrong region) holds it alone.
	Bucket string
}

func destinationOf(j *journal.Job) Destination {
	return Destination{Endpoint: j.Endpoint, Schema: j.Schema, Table: j.Table, SQLOption: j.SQLOption, Region: j.Region, Manifest: j.Manifest, Bucket: j.Bucket}
}

// Batch is one COPY's worth of jobs.
type Batch struct {
	ID   string
	Dest Destination
	Jobs []journal.Job
}

// Result is what a successful Copy did.
type Result struct {
	Rows    int64           // rows the COPY loaded
	Skipped map[string]bool // job ids the ledger already held: not loaded again
	// RowsSkipped counts, per job id, the rows of its object that Redshift
	// rejected and skipped under MAXERROR (stl_load_errors) while the COPY
	// still committed. A partial load is a load, but never a silent one.
	RowsSkipped map[string]int64
	// Superseded and Removed are jobs the Copier left out of the COPY, with
	// why: their object changed since their event (a newer version's bytes,
	// or a newer event of the same key in the batch) or was deleted. They
	// end in those states, not loaded and not failed (versions.go).
	Superseded map[string]string
	Removed    map[string]string
	// Notes are remarks on jobs that loaded, by id: a job whose object
	// had changed since its event loaded the key's current bytes, as that
	// version (versions.go).
	Notes map[string]string
}

// Options are the engine's knobs; config.Config supplies them in rin.
type Options struct {
	Receive ReceiveOptions
	Retry   RetryOptions
	Batch   BatchOptions
	// Batch mode: stop receiving once the queue is empty, and return from
	// Run when no job is pending.
	BatchMode bool
	// ShutdownGrace bounds how long in-flight COPYs may run after Run's
	// context is cancelled.
	ShutdownGrace time.Duration
	Logger        *slog.Logger
	// Overwrites is the config's overwrites (config.OverwritesLoad, ...):
	// with OverwritesSkip a key's later versions are superseded on arrival.
	Overwrites string
}

// ReceiveOptions tune the SQS side.
type ReceiveOptions struct {
	Receivers   int
	MaxMessages int32
	WaitTime    time.Duration
	Visibility  time.Duration
	MaxPending  int // receiving pauses while this many jobs are pending
	// Retention is the queue's MessageRetentionPeriod: a message not
	// deleted by then is gone. The engine warns (and Stats reports) when
	// the oldest message it holds nears it. 0: unknown, no warning.
	Retention time.Duration
}

// RetryOptions tune backoff between attempts.
type RetryOptions struct {
	InitialInterval time.Duration
	MaxInterval     time.Duration
	Multiplier      float64
	MaxAttempts     int           // permanent errors: attempts before failed
	MaxElapsed      time.Duration // transient errors: give up after; 0 = never
}

// BatchOptions tune how jobs are grouped into COPYs.
type BatchOptions struct {
	MaxFiles    int
	MaxBytes    int64
	MaxAge      time.Duration
	Concurrency int // batches in flight per endpoint
	// CopyTimeout bounds one Copy; past it the COPY is cancelled and taken
	// as a transient failure. A hung connection must never hold an
	// endpoint's slot for good. 0 means no bound.
	CopyTimeout time.Duration
}

// setDefaults fills what is unset with config's defaults (config defines
// every default once) and keeps the receive within SQS's bounds.
func (o *Options) setDefaults() {
	if o.Receive.Receivers <= 0 {
		o.Receive.Receivers = config.DefaultReceivers
	}
	if o.Receive.MaxMessages <= 0 || o.Receive.MaxMessages > config.SQSMaxMessages {
		o.Receive.MaxMessages = config.DefaultMaxMessages
	}
	if o.Receive.WaitTime <= 0 || o.Receive.WaitTime > config.SQSMaxWaitTime.D() {
		o.Receive.WaitTime = config.DefaultWaitTime.D()
	}
	if o.Receive.Visibility <= 0 {
		o.Receive.Visibility = config.DefaultVisibility.D()
	}
	if o.Receive.MaxPending <= 0 {
		o.Receive.MaxPending = config.DefaultMaxPending
	}
	if o.Retry.InitialInterval <= 0 {
		o.Retry.InitialInterval = config.DefaultRetryInitial.D()
	}
	if o.Retry.MaxInterval <= 0 {
		o.Retry.MaxInterval = config.DefaultRetryMax.D()
	}
	if o.Retry.Multiplier < 1 {
		o.Retry.Multiplier = config.DefaultRetryMultiplier
	}
	if o.Retry.MaxAttempts <= 0 {
		o.Retry.MaxAttempts = config.DefaultRetryMaxAttempts
	}
	if o.Batch.MaxFiles <= 0 {
		o.Batch.MaxFiles = config.DefaultBatchMaxFiles
	}
	if o.Batch.MaxBytes <= 0 {
		o.Batch.MaxBytes = config.DefaultBatchMaxBytes
	}
	if o.Batch.MaxAge < 0 {
		o.Batch.MaxAge = 0 // no wait: unlike batch.max_age's default, the engine's zero is a value
	}
	if o.Batch.Concurrency <= 0 {
		o.Batch.Concurrency = config.DefaultBatchConcurrency
	}
	if o.ShutdownGrace <= 0 {
		o.ShutdownGrace = config.DefaultShutdownGrace.D()
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Engine is rin's state machine. Create it with New, run it with Run.
type Engine struct {
	opts    Options
	log     *slog.Logger
	journal *journal.Journal
	queue   Queue
	router  Router
	copier  Copier

	// mu guards all that follows but the channels. Each concern's state
	// is its own type, in the concern's file, whose methods keep its
	// invariants; none has a lock of its own.
	mu        sync.Mutex
	jobs      jobTable      // pending jobs, those being admitted and those in flight (jobs.go)
	ready     readyQueue    // received jobs waiting for a batch (queue.go)
	pace      pacing        // arrivals and batches in flight per table (pace.go)
	slots     endpointSlots // batches in flight per endpoint (scheduler.go)
	msgs      messages      // undeleted SQS messages and the jobs they carry (messages.go)
	holds     holds         // breakers of held scopes (hold.go)
	receiving int           // receivers still running
	adq       admitQueue    // received messages on their way into the journal (admitter.go)
	dirty     ackDirty      // what the next ack pass looks at (ack.go)
	stats     Stats
	// retentionWarned is when the last retention warning was logged.
	retentionWarned time.Time

	wake    chan struct{}
	ackWake chan struct{}
	// progress fires when messages are deleted or a receiver stops: what
	// batch mode's end waits for (broadcast.go).
	progress broadcast
}

// New builds an engine. Run must be called to start it.
func New(j *journal.Journal, q Queue, r Router, c Copier, opts Options) *Engine {
	opts.setDefaults()
	e := &Engine{
		opts: opts, log: opts.Logger, journal: j, queue: q, router: r, copier: c,
		jobs:    newJobTable(),
		ready:   newReadyQueue(),
		slots:   newEndpointSlots(opts.Batch.Concurrency),
		msgs:    newMessages(),
		holds:   newHolds(opts.Retry),
		dirty:   newAckDirty(),
		wake:    make(chan struct{}, 1),
		ackWake: make(chan struct{}, 1),
	}
	e.adq.done = sync.NewCond(&e.mu)
	e.adq.wake = make(chan struct{}, 1)
	return e
}

// ErrJournal marks a failure to write the journal. The engine stops on it:
// carrying on without a durable record would break every guarantee.
var ErrJournal = errors.New("journal write failed")

// Run receives and loads until ctx is cancelled (or, in batch mode, until the
// queue is drained and no job is pending). On cancellation it stops
// receiving, lets in-flight COPYs finish within ShutdownGrace, and returns
// nil. It returns an error only when it cannot go on (journal failure).
func (e *Engine) Run(ctx context.Context) error {
	if err := e.resume(); err != nil {
		return err
	}
	// Loads get their own context so that a shutdown lets them finish.
	loadCtx, cancelLoads := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelLoads()
	fatal := make(chan error, 1)
	fail := func(err error) {
		select {
		case fatal <- err:
		default:
		}
	}

	recvCtx, stopReceiving := context.WithCancel(ctx)
	defer stopReceiving()
	var recvWG, loopWG sync.WaitGroup
	// The admitter outlives the receivers (they flush it before they
	// return), so it runs on loadCtx.
	stopAdmitting := make(chan struct{})
	loopWG.Add(1)
	go func() { defer loopWG.Done(); e.admitLoop(loadCtx, stopAdmitting, fail) }()
	e.mu.Lock()
	e.receiving = e.opts.Receive.Receivers
	e.mu.Unlock()
	for i := 0; i < e.opts.Receive.Receivers; i++ {
		recvWG.Add(1)
		go func() {
			defer recvWG.Done()
			if err := e.receiveLoop(recvCtx); err != nil {
				fail(err)
			}
		}()
	}
	var loads sync.WaitGroup
	done := make(chan struct{})
	// The ack loop's last pass must see the last loads' outcomes, so it
	// stops when they have finished, not when planning stops.
	loadsOver, acksOver := make(chan struct{}), make(chan struct{})
	// Run waits for the planner to return before it waits for the loads:
	// a plan in progress when planning stops may still start a batch.
	plannerOver := make(chan struct{})
	loopWG.Add(1)
	go func() { defer close(plannerOver); e.scheduleLoop(loadCtx, done, &loads, fail) }()
	go func() { defer close(acksOver); e.ackLoop(loadCtx, loadsOver, fail) }()
	go func() { defer loopWG.Done(); e.heartbeatLoop(loadCtx, done) }()

	var err error
	idle := time.NewTicker(100 * time.Millisecond)
	defer idle.Stop()
wait:
	for {
		progress := e.progress.wait()
		if e.opts.BatchMode && e.finished() {
			break wait
		}
		select {
		case <-ctx.Done():
			break wait
		case err = <-fatal:
			break wait
		case <-progress:
		case <-idle.C:
		}
	}
	stopReceiving()
	recvWG.Wait()
	close(stopAdmitting)
	// Stop starting batches; wait for running ones within the grace period.
	close(done)
	<-plannerOver
	finished := make(chan struct{})
	go func() { loads.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(e.opts.ShutdownGrace):
		e.log.Warn("shutdown grace period over; abandoning in-flight COPYs (their jobs stay copying and are resolved on restart)", "grace", e.opts.ShutdownGrace)
		cancelLoads()
		<-finished
	}
	// One last ack pass, before anything is cancelled: a clean shutdown
	// leaves no job copied but unacked and no done message undeleted.
	close(loadsOver)
	<-acksOver
	cancelLoads()
	loopWG.Wait()
	if err == nil {
		select {
		case err = <-fatal:
		default:
		}
	}
	return err
}

// finished reports, in batch mode, that receiving has stopped and nothing
// is left to do.
func (e *Engine) finished() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.receiving == 0 && e.jobs.backlog() == 0 && e.msgs.len() == 0
}

// resume loads the pending jobs and undeleted messages of an earlier run.
// Jobs found copying go back to received: the ledger check in Copy decides
// whether they had committed. It holds e.mu while it fills the tables:
// Requeue and Submit may come in through the admin socket meanwhile.
func (e *Engine) resume() error {
	var copying []journal.Job
	var resumed []journal.Job
	e.mu.Lock()
	err := e.journal.View(func(tx *journal.Tx) error {
		for _, s := range []journal.State{journal.Received, journal.Copying, journal.Copied} {
			if err := tx.ForEachJob(s, func(j journal.Job) error {
				if j.State == journal.Copying {
					copying = append(copying, j)
				}
				resumed = append(resumed, j)
				return nil
			}); err != nil {
				return err
			}
		}
		return tx.ForEachMessage(func(m journal.Message) error {
			e.msgs.restore(m)
			return nil
		})
	})
	if err != nil {
		e.mu.Unlock()
		return fmt.Errorf("resume from journal: %w", err)
	}
	now := time.Now()
	for _, j := range resumed {
		e.schedule(j, now) // copying goes back to received
	}
	pending, undeleted := e.jobs.len(), e.msgs.len()
	e.mu.Unlock()
	if len(copying) > 0 {
		if err := e.journal.Update(func(tx *journal.Tx) error {
			for _, j := range copying {
				j.State = journal.Received
				if err := tx.PutJob(j); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return fmt.Errorf("%w: resume: %w", ErrJournal, err)
		}
	}
	if pending > 0 || undeleted > 0 {
		e.log.Info("resumed from journal", "pending_jobs", pending, "interrupted_copies", len(copying), "undeleted_messages", undeleted)
	}
	e.signal(e.wake)
	e.signal(e.ackWake)
	return nil
}

func (e *Engine) signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
