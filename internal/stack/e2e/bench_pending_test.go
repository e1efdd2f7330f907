package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rinhq/rin/config"
)

// pendingJobs is the backlog of BenchmarkPending, and its
// receive.max_pending. pendingSpare more objects are sent, so that intake
// really stops on max_pending, with messages still waiting on the queue.
const (
	pendingJobs  = 10000
	pendingSpare = 300
)

// BenchmarkPending measures rin's peak RSS with 10,000 jobs pending at once
// (the target is 100 MiB). In BenchmarkImport intake and COPYs
// overlap, so far fewer jobs are ever pending together. Here the Redshift
// simulator is read-only while rin receives: every job is journaled and held
// (the breaker probes one job at a time) until receive.max_pending stops
// intake. Then the simulator is made writable and the backlog drains, and
// rin receives and loads the spare objects.
//
// Reported: VmHWM once max_pending jobs are pending, the intake alone
// (objects/s, rin's CPU), the drain from recovery until as many objects as
// were pending have loaded, and VmHWM at the end. rin runs as a daemon, is watched through /metrics on its admin socket, and is
// stopped with SIGTERM once nothing is pending.
func BenchmarkPending(b *testing.B) {
	if os.Getenv("RIN_BENCH") == "" {
		b.Skip("end-to-end benchmark: run with RIN_BENCH=1 (make bench)")
	}
	var runs []pendingResult
	for i := 0; i < b.N; i++ {
		runs = append(runs, pendingOnce(b, i))
	}
	pick := func(f func(pendingResult) float64) float64 {
		v := make([]float64, len(runs))
		for i, r := range runs {
			v[i] = f(r)
		}
		return medianOf(v)
	}
	pending := pick(func(r pendingResult) float64 { return float64(r.pending) })
	intake := pick(func(r pendingResult) float64 { return r.intake })
	intakeCPU := pick(func(r pendingResult) float64 { return r.intakeCPU })
	rss := pick(func(r pendingResult) float64 { return float64(r.rss) }) / (1 << 20)
	drain := pick(func(r pendingResult) float64 { return r.drain })
	rssEnd := pick(func(r pendingResult) float64 { return float64(r.rssEnd) }) / (1 << 20)
	b.ReportMetric(pending, "pending-jobs")
	b.ReportMetric(rss, "peak-rss-MiB")
	b.ReportMetric(intake, "intake-s")
	b.ReportMetric(pending/intake, "intake-objects/s")
	b.ReportMetric(intakeCPU/pending*1000, "intake-cpu-s/1k-objects")
	b.ReportMetric(drain, "drain-s")
	b.ReportMetric(rssEnd, "peak-rss-after-drain-MiB")
	b.Logf("pending: jobs=%.0f of %d peak_rss=%.1fMiB intake=%.2fs (%.0f objects/s, rin_cpu_s_per_1k=%.3f) drain=%.2fs peak_rss_after_drain=%.1fMiB runs=%d load=%s",
		pending, pendingJobs, rss, intake, pending/intake, intakeCPU/pending*1000, drain, rssEnd, len(runs), loadAvg())
}

// pendingResult is one run of BenchmarkPending.
type pendingResult struct {
	pending     int     // jobs pending at once: max_pending, unless intake stalled short of it
	intake      float64 // seconds from rin's start until they were
	intakeCPU   float64 // rin's CPU seconds until seen so (at most 1 s later)
	rss, rssEnd int64   // VmHWM then, and after the drain
	drain       float64 // seconds from recovery until as many objects as were pending had loaded
}

func pendingOnce(b *testing.B, run int) pendingResult {
	b.StopTimer()
	defer b.StartTimer()
	e := newEnv(b)
	st := e.st
	e.table("bench")
	ctx := context.Background()
	objects := pendingJobs + pendingSpare
	bodies := uploadObjects(b, e, objects)
	if err := sendConcurrently(ctx, st, e.queueURL, bodies); err != nil {
		b.Fatal(err)
	}
	// rin's defaults, but for a breaker that probes every second at most, so
	// the drain starts soon after recovery, and a visibility timeout long
	// enough that the heartbeat (every third of it, one request per message
	// on goaws) stays out of the run.
	extra := fmt.Sprintf("batch:\n  max_age: %s\nreceive:\n  max_pending: %d\n  wait_time: 1s\n  visibility_timeout: 5m\nretry:\n  initial_interval: 100ms\n  max_interval: 1s\nledger:\n  schema: %s\n",
		config.DefaultBatchMaxAge, pendingJobs, e.schema)
	cfg := e.writeConfig("config.yaml", "  - redshift: {table: bench}\n    s3: {key_prefix: obj/}\n", extra)
	sock := filepath.Join(e.dir, "rin.sock")
	sim := st.Redshift()
	sim.SetReadOnly(true)
	defer sim.SetReadOnly(false)
	rowsBefore := sim.Stats().RowsLoaded

	b.StartTimer()
	start := time.Now()
	p := e.start("-config", cfg)
	pid := p.cmd.Process.Pid
	// wait polls every interval until cond holds; rin must keep running.
	wait := func(what string, interval time.Duration, cond func() bool) {
		deadline := time.Now().Add(5 * time.Minute)
		for !cond() {
			select {
			case <-p.done:
				out, _ := os.ReadFile(p.log)
				b.Fatalf("rin exited (%v) while waiting for %s:\n%s", p.err, what, tail(out, 4000))
			case <-time.After(interval):
			}
			if time.Now().After(deadline) {
				b.Fatalf("timed out waiting for %s", what)
			}
		}
	}

	// Intake: until max_pending jobs are pending, or, should intake stall
	// short of it (messages hidden in flight), until no message is visible
	// and the count has not moved for 3 s. A scrape reads every pending job from the
	// journal (80 ms of rin's CPU with 10,000 pending, measured), so polls
	// are 1 s apart; when intake ended is read from the journal afterwards.
	var pending int
	var reached time.Time
	wait("jobs pending", time.Second, func() bool {
		n, ok := pendingMetric(sock)
		if !ok {
			return false
		}
		if n > pending {
			pending, reached = n, time.Now()
		}
		return pending >= pendingJobs || pending > 0 && time.Since(reached) > 3*time.Second && e.queueVisible() == 0
	})
	res := pendingResult{pending: pending, rss: peakRSS(pid), intakeCPU: procCPU(pid, false)}
	split := rssSplit(pid)

	sim.SetReadOnly(false)
	recovered := time.Now()
	wait("the backlog loaded", 50*time.Millisecond, func() bool {
		return sim.Stats().RowsLoaded-rowsBefore >= int64(pending*benchRows)
	})
	res.drain = time.Since(recovered).Seconds()
	wait("every job acked and no message visible", time.Second, func() bool {
		n, ok := pendingMetric(sock)
		return ok && n == 0 && e.queueVisible() == 0
	})
	res.rssEnd = peakRSS(pid)
	splitEnd := rssSplit(pid)
	b.StopTimer()
	p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		out, _ := os.ReadFile(p.log)
		b.Fatalf("rin exited %d after SIGTERM:\n%s", code, tail(out, 4000))
	}

	checkLoadedOnce(b, e, objects)
	// Intake ended when the pending-th job was journaled.
	var created []time.Time
	for _, jobs := range e.jobs() {
		for _, j := range jobs {
			created = append(created, j.Created)
		}
	}
	slices.SortFunc(created, time.Time.Compare)
	res.intake = created[pending-1].Sub(start).Seconds()
	b.Logf("run %d: pending=%d peak_rss=%.1fMiB (now %s) intake=%.2fs rin_cpu=%.2fs drain=%.2fs peak_rss_after_drain=%.1fMiB (now %s)",
		run, pending, float64(res.rss)/(1<<20), split, res.intake, res.intakeCPU, res.drain, float64(res.rssEnd)/(1<<20), splitEnd)
	return res
}

// pendingMetric reads rin_pending_jobs from rin's /metrics; false while rin
// does not answer yet.
func pendingMetric(sock string) (int, bool) {
	m, err := getMetrics(sock)
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(m, "\n") {
		if v, ok := strings.CutPrefix(line, "rin_pending_jobs "); ok {
			n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int(n), err == nil
		}
	}
	return 0, false
}

// queueVisible is the number of visible messages on the test's queue (goaws
// counts in-flight ones in ApproximateNumberOfMessages too); -1 on error.
func (e *env) queueVisible() int {
	ctx := context.Background()
	all, err := e.st.SQS().ApproximateCount(ctx, e.queueURL)
	if err != nil {
		return -1
	}
	inFlight, err := e.st.SQS().InFlight(ctx, e.queueURL)
	if err != nil {
		return -1
	}
	return all - inFlight
}

// rssSplit reads a process's resident set as it is now, split into
// anonymous memory (the Go heap, stacks) and file pages (the binary's code
// and the journal's mmap): VmHWM alone cannot tell them apart.
func rssSplit(pid int) string {
	return fmt.Sprintf("anon=%.1fMiB file=%.1fMiB",
		float64(procStatus(pid, "RssAnon"))/(1<<20), float64(procStatus(pid, "RssFile"))/(1<<20))
}
