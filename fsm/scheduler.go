package fsm

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sort"
	"sync"
	"time"

	"github.com/rinhq/rin/journal"
)

// scheduleLoop groups due jobs into batches and starts them, within each
// endpoint's concurrency limit and breaker. It wakes when jobs arrive or a
// batch ends, and otherwise at the earliest moment something becomes due.
func (e *Engine) scheduleLoop(ctx context.Context, done <-chan struct{}, loads *sync.WaitGroup, fail func(error)) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-e.wake:
		case <-timer.C:
		}
		batches, next := e.plan(time.Now())
		for _, b := range batches {
			loads.Add(1)
			go func(b plannedBatch) {
				defer loads.Done()
				if err := e.load(ctx, b); err != nil {
					fail(err)
				}
			}(b)
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(time.Until(next))
		// Let more jobs gather before the next plan: cheap debounce that keeps
		// a burst of admissions from replanning once per message.
		if !sleep(ctx, 5*time.Millisecond) {
			return
		}
	}
}

// plannedBatch is a batch and whether it probes an open breaker.
type plannedBatch struct {
	Batch
	probe bool
}

// plan picks the batches to start now and when to plan next.
func (e *Engine) plan(now time.Time) ([]plannedBatch, time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	next := now.Add(time.Second)
	soon := func(t time.Time) {
		if t.Before(next) {
			next = t
		}
	}
	groups := map[Destination][]*journal.Job{}
	for id, j := range e.jobs {
		if j.State != journal.Received || e.inflight[id] {
			continue
		}
		if j.NextAttempt.After(now) {
			soon(j.NextAttempt)
			continue
		}
		d := destinationOf(j)
		groups[d] = append(groups[d], j)
	}
	var out []plannedBatch
	dests := make([]Destination, 0, len(groups))
	for d := range groups {
		dests = append(dests, d)
	}
	// Oldest destination first, so no table starves.
	oldest := func(js []*journal.Job) time.Time {
		t := now
		for _, j := range js {
			if r := e.readyAt[j.ID]; r.Before(t) {
				t = r
			}
		}
		return t
	}
	sort.Slice(dests, func(a, b int) bool { return oldest(groups[dests[a]]).Before(oldest(groups[dests[b]])) })
	for _, d := range dests {
		jobs := groups[d]
		br := e.breaker(d.Endpoint)
		sort.Slice(jobs, func(a, b int) bool { return e.readyAt[jobs[a].ID].Before(e.readyAt[jobs[b].ID]) })
		for len(jobs) > 0 {
			if e.running[d.Endpoint] >= e.opts.Batch.Concurrency {
				break
			}
			ok, probe := br.allow(now)
			if !ok {
				soon(br.probeAt)
				break
			}
			maxFiles := e.opts.Batch.MaxFiles
			if jobs[0].MaxFiles > 0 {
				maxFiles = jobs[0].MaxFiles
			}
			if !d.Manifest {
				maxFiles = 1 // without a manifest every object is its own COPY
			}
			n, bytes := 0, int64(0)
			for n < len(jobs) && n < maxFiles && (n == 0 || bytes+jobs[n].Size <= e.opts.Batch.MaxBytes) {
				bytes += jobs[n].Size
				n++
			}
			full := n == maxFiles || n < len(jobs)
			age := now.Sub(e.readyAt[jobs[0].ID])
			if !full && age < e.opts.Batch.MaxAge && !probe {
				// Wait for the batch to fill, at most MaxAge.
				soon(e.readyAt[jobs[0].ID].Add(e.opts.Batch.MaxAge))
				break
			}
			if probe {
				n = 1 // a probe risks one job, not a batch
				br.probing = true
			}
			b := plannedBatch{Batch: Batch{ID: newBatchID(), Dest: d}, probe: probe}
			for _, j := range jobs[:n] {
				e.inflight[j.ID] = true
				b.Jobs = append(b.Jobs, *j)
			}
			e.running[d.Endpoint]++
			jobs = jobs[n:]
			out = append(out, b)
		}
	}
	return out, next
}

func (e *Engine) breaker(endpoint string) *breaker {
	b := e.breakers[endpoint]
	if b == nil {
		b = newBreaker(e.opts.Retry)
		e.breakers[endpoint] = b
	}
	return b
}

func newBatchID() string {
	var b [8]byte
	rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
}
