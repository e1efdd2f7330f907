package backfill

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/rinhq/rin/admin"
	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/journal"
)

// Sink is where backfill's jobs go and how they are followed: the running
// rin's admin socket (*admin.Client), or the journal with an engine of
// backfill's own (*admin.Local). A dry run only looks jobs up.
type Sink interface {
	Submit(ctx context.Context, jobs []journal.Job) (admin.SubmitResult, error)
	Lookup(ctx context.Context, ids []string) ([]admin.JobStatus, error)
}

// Ledger says which jobs an endpoint's ledger holds, under any id their
// load may be recorded under (*redshift.LedgerReader).
type Ledger interface {
	LoadedJobs(ctx context.Context, jobs []journal.Job) (map[string]bool, error)
}

// Options configure Run.
type Options struct {
	Sources []Source
	List    ListOptions
	S3      S3API
	Router  fsm.Router
	Sink    Sink
	// Ledger returns the ledger of an endpoint; nil (or a nil Ledger) when
	// there is none to read (ledger.disabled).
	Ledger func(endpoint string) (Ledger, error)
	DryRun bool
	// MaxPending bounds backfill's jobs outstanding in rin at once
	// (receive.max_pending; 10,000 when 0).
	MaxPending int
	// Poll is how often outstanding jobs are looked up (500 ms when 0).
	Poll time.Duration
	// Progress, if set, is called whenever the figures change.
	Progress func(Progress)
	// Listed, if set, is called once every source is listed: no job will
	// be submitted after it.
	Listed func()
	Log    *slog.Logger
}

// Progress is where a run stands.
type Progress struct {
	Listed      int  // objects listed (within -since/-until)
	Jobs        int  // their jobs, one per target that loads an object
	Already     int  // jobs loaded before this run (journal or ledger)
	Queued      int  // jobs this run submitted or found pending, and follows
	Loaded      int  // of Queued: loaded
	Held        int  // of Queued: waiting now behind a held scope
	Failed      int  // jobs parked failed
	ListingDone bool // every source is listed
	Elapsed     time.Duration
}

// Rate is jobs loaded per second so far.
func (p Progress) Rate() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Loaded) / p.Elapsed.Seconds()
}

// ETA is the time left for the queued jobs at the current rate (0 when
// unknown).
func (p Progress) ETA() time.Duration {
	left := p.Queued - p.Loaded
	if r := p.Rate(); r > 0 && left > 0 {
		return time.Duration(float64(left) / r * float64(time.Second))
	}
	return 0
}

// Run lists every source, submits what is not loaded and follows it until
// rin has loaded or parked all of it, or ctx ends. The summary is complete
// either way; the error says why the run stopped early.
func Run(ctx context.Context, o Options) (*Summary, error) {
	if o.MaxPending <= 0 {
		o.MaxPending = 10000
	}
	if o.Poll <= 0 {
		o.Poll = 500 * time.Millisecond
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	r := &runner{o: o, sum: newSummary(o.Sources, o.DryRun), out: map[string]journal.Job{}, held: map[string]string{},
		ledgers: map[string]Ledger{}, start: time.Now()}
	err := r.run(ctx)
	r.finish()
	return r.sum, err
}

type runner struct {
	o        Options
	sum      *Summary
	out      map[string]journal.Job // outstanding: submitted or found pending, not finished
	held     map[string]string      // outstanding id → the scope holding it
	ledgers  map[string]Ledger
	prog     Progress
	start    time.Time
	lastPoll time.Time
}

func (r *runner) run(ctx context.Context) error {
	for _, src := range r.o.Sources {
		st, err := List(ctx, r.o.S3, src, r.o.List, func(objs []Object) error { return r.page(ctx, objs) })
		r.sum.Skipped += st.Skipped
		r.sum.OutOfRange += st.OutOfRange
		if err != nil {
			return err
		}
	}
	r.prog.ListingDone = true
	if r.o.Listed != nil {
		r.o.Listed()
	}
	r.report()
	for len(r.out) > 0 {
		if !sleep(ctx, r.o.Poll) {
			return ctx.Err()
		}
		if err := r.poll(ctx); err != nil {
			return err
		}
	}
	return nil
}

// page handles one listed page: plan, look up, submit.
func (r *runner) page(ctx context.Context, objs []Object) error {
	var jobs []journal.Job
	for _, p := range plan(r.o.Router, objs) {
		r.sum.object(p)
		for _, j := range p.jobs {
			if j.State == journal.Failed {
				r.sum.add(j, outFailed, "target cannot take it: "+j.LastError)
				continue
			}
			jobs = append(jobs, j)
		}
	}
	r.prog.Listed += len(objs)
	fresh, err := r.sort(ctx, jobs)
	if err != nil {
		return err
	}
	if r.o.DryRun {
		for _, j := range fresh {
			r.sum.add(j, outWouldLoad, "")
		}
		r.report()
		return nil
	}
	for len(r.out)+len(fresh) > r.o.MaxPending && len(r.out) > 0 {
		if !sleep(ctx, r.o.Poll) {
			return ctx.Err()
		}
		if err := r.poll(ctx); err != nil {
			return err
		}
	}
	if len(fresh) > 0 {
		res, err := r.o.Sink.Submit(ctx, fresh)
		if errors.Is(err, fsm.ErrNotRouted) {
			return fmt.Errorf("submit %d jobs: the running rin routes them differently (give backfill rin's own config): %w", len(fresh), err)
		}
		if err != nil {
			return fmt.Errorf("submit %d jobs: %w", len(fresh), err)
		}
		r.o.Log.Debug("jobs submitted", "jobs", len(fresh), "admitted", res.Admitted, "known", res.Known)
		for _, j := range fresh {
			r.follow(j)
		}
	}
	r.report()
	if time.Since(r.lastPoll) >= r.o.Poll {
		return r.poll(ctx)
	}
	return nil
}

// sort settles the jobs the journal or the ledger knows and returns the
// rest: the jobs to submit.
func (r *runner) sort(ctx context.Context, jobs []journal.Job) ([]journal.Job, error) {
	r.prog.Jobs += len(jobs)
	ids := make([]string, len(jobs))
	for i, j := range jobs {
		ids[i] = j.ID
	}
	st, err := r.o.Sink.Lookup(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("look jobs up in the journal: %w", err)
	}
	known := make(map[string]admin.JobStatus, len(st))
	for _, s := range st {
		known[s.ID] = s
	}
	var unknown []journal.Job
	for _, j := range jobs {
		s, ok := known[j.ID]
		switch {
		case !ok:
			unknown = append(unknown, j)
		case s.State == journal.Copied || s.State == journal.Acked:
			r.sum.add(j, outAlready, "")
		case s.State == journal.Failed:
			r.sum.add(j, outFailed, s.LastError)
		case s.State == journal.Superseded || s.State == journal.Removed:
			r.sum.add(j, outChanged, s.Note)
		case r.o.DryRun:
			r.sum.add(j, outPending, pendingWhy(s))
		default:
			r.follow(j) // pending in rin: wait for it like for our own
		}
	}
	loaded, err := r.inLedger(ctx, unknown)
	if err != nil {
		return nil, err
	}
	var fresh []journal.Job
	for _, j := range unknown {
		if loaded[j.ID] {
			r.sum.add(j, outAlready, "")
			continue
		}
		fresh = append(fresh, j)
	}
	return fresh, nil
}

// inLedger asks each endpoint's ledger about its jobs.
func (r *runner) inLedger(ctx context.Context, jobs []journal.Job) (map[string]bool, error) {
	out := map[string]bool{}
	if r.o.Ledger == nil {
		return out, nil
	}
	byEndpoint := map[string][]journal.Job{}
	for _, j := range jobs {
		byEndpoint[j.Endpoint] = append(byEndpoint[j.Endpoint], j)
	}
	for ep, group := range byEndpoint {
		l, ok := r.ledgers[ep]
		if !ok {
			var err error
			if l, err = r.o.Ledger(ep); err != nil {
				return nil, fmt.Errorf("ledger of %s: %w", ep, err)
			}
			r.ledgers[ep] = l
		}
		if l == nil {
			continue
		}
		got, err := l.LoadedJobs(ctx, group)
		if err != nil {
			return nil, err
		}
		for id := range got {
			out[id] = true
		}
	}
	return out, nil
}

func (r *runner) follow(j journal.Job) {
	if _, ok := r.out[j.ID]; !ok {
		r.out[j.ID] = j
		r.prog.Queued++
	}
}

// poll looks the outstanding jobs up and settles the finished ones.
func (r *runner) poll(ctx context.Context) error {
	r.lastPoll = time.Now()
	ids := make([]string, 0, len(r.out))
	for id := range r.out {
		ids = append(ids, id)
	}
	st, err := r.o.Sink.Lookup(ctx, ids)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("follow %d jobs: %w", len(ids), err)
	}
	seen := make(map[string]bool, len(st))
	for _, s := range st {
		seen[s.ID] = true
		j, ok := r.out[s.ID]
		if !ok {
			continue
		}
		switch {
		case s.State == journal.Copied || s.State == journal.Acked:
			r.settle(j, outLoaded, "")
		case s.State == journal.Failed:
			r.settle(j, outFailed, s.LastError)
		case s.State == journal.Superseded || s.State == journal.Removed:
			r.settle(j, outChanged, s.Note)
		case s.Held != "":
			r.held[j.ID] = s.Held + ": " + s.LastError
		default:
			delete(r.held, j.ID)
		}
	}
	for _, id := range ids {
		if !seen[id] {
			r.settle(r.out[id], outFailed, "no longer in the journal (forgotten while backfill followed it)")
		}
	}
	r.report()
	return nil
}

func (r *runner) settle(j journal.Job, o outcome, why string) {
	delete(r.out, j.ID)
	delete(r.held, j.ID)
	if o == outLoaded {
		r.prog.Loaded++
	}
	r.sum.add(j, o, why)
}

// finish counts what is still outstanding when the run stops.
func (r *runner) finish() {
	for id, j := range r.out {
		if why, ok := r.held[id]; ok {
			r.sum.add(j, outHeld, why)
		} else {
			r.sum.add(j, outPending, "still pending in rin, which goes on loading it")
		}
	}
	r.out = map[string]journal.Job{}
	r.report()
}

func (r *runner) report() {
	r.prog.Already = r.sum.total(outAlready)
	r.prog.Failed = r.sum.total(outFailed)
	r.prog.Held = len(r.held)
	r.prog.Elapsed = time.Since(r.start)
	if r.o.Progress != nil {
		r.o.Progress(r.prog)
	}
}

func pendingWhy(s admin.JobStatus) string {
	if s.Held != "" {
		return "held: " + s.Held + ": " + s.LastError
	}
	if s.LastError != "" {
		return fmt.Sprintf("pending in rin (%d attempts; last error: %s)", s.Attempts, s.LastError)
	}
	return "pending in rin"
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// ErrIncomplete means some listed objects are not loaded: the summary says
// which and why.
var ErrIncomplete = errors.New("not every object is loaded")
