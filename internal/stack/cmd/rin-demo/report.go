package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rinhq/rin/journal"
)

// rinRun is how rin's run went.
type rinRun struct {
	err      error
	took     time.Duration
	progress *progress
}

// runRin runs rin -batch with the stack's environment, showing progress,
// until it exits by itself (everything loaded, queue empty) or the
// -timeout passes.
func (d *demo) runRin(ctx context.Context, cfgPath string) rinRun {
	logPath := filepath.Join(d.out, logFile)
	d.printf("Running: rin -config %s -batch   (log: %s)\n", d.rel(cfgPath), d.rel(logPath))
	rctx, cancel := context.WithTimeout(ctx, d.opts.timeout)
	defer cancel()
	start := time.Now()
	p, err := startRin(rctx, d.bin, cfgPath, d.out, logPath, rinEnv(d.st.Env()))
	if err != nil {
		return rinRun{err: err}
	}
	total, _ := d.plan.Loadable()
	pr := &progress{w: d.w, tty: d.tty, total: total, sim: d.st.Redshift(), socket: d.socket, start: start, log: d.log}
	pr.run(rctx, p.done)
	err = p.wait() // after rctx ends, rin has had SIGTERM and exits
	run := rinRun{err: err, took: time.Since(start), progress: pr}
	if errors.Is(rctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
		run.err = errors.Join(run.err, fmt.Errorf("rin did not finish within -timeout %s", d.opts.timeout))
	}
	return run
}

// report prints the outcome: rin's exit, rows per table against the
// expected counts, the journal, the queues, batching, and where the files
// are. Wrong counts go to c; an error means the demo could not look.
func (d *demo) report(ctx context.Context, run rinRun, c *checks) error {
	js, jerr := readJournal(ctx, filepath.Join(d.out, journalFile))
	if run.progress != nil {
		if jerr == nil {
			run.progress.finish(js.Stats.States[journal.Copied]+js.Stats.States[journal.Acked], js.Stats.States[journal.Failed], run.took)
		} else {
			run.progress.finish(run.progress.loaded, run.progress.failed, run.took)
		}
	}
	if run.err != nil {
		d.printf("✘ rin failed after %.1fs: %v\n  last lines of %s:\n", run.took.Seconds(), run.err, d.rel(filepath.Join(d.out, logFile)))
		for _, l := range logTail(filepath.Join(d.out, logFile), 15) {
			d.printf("  │ %s\n", l)
		}
	} else {
		d.printf("rin exited by itself after %.1fs: the queue is empty and no job is pending.\n", run.took.Seconds())
	}
	d.printf("\n")

	rows, err := countRows(ctx, d.st.BackendDSN(), d.plan.Tables)
	if err != nil {
		return err
	}
	printRows(d.w, d.plan, rows, c)
	d.printf("\n")

	if jerr != nil {
		d.printf("Journal: %v %s\n", jerr, c.mark(false, "journal unreadable: %v", jerr))
	} else {
		printJournal(d.w, js, d.plan, c)
	}
	if err := d.printQueues(ctx, c); err != nil {
		return err
	}
	d.printRinAccount()
	d.printBatching(c)
	d.printFiles()
	return nil
}

// printQueues checks that rin deleted every message and none went to the
// dead-letter queue.
func (d *demo) printQueues(ctx context.Context, c *checks) error {
	left, err := d.st.SQS().ApproximateCount(ctx, d.world.QueueURL)
	if err != nil {
		return err
	}
	dead, err := d.st.SQS().ApproximateCount(ctx, d.world.DLQURL)
	if err != nil {
		return err
	}
	d.printf("  SQS: %d messages left in %s, %d in its dead-letter queue %s\n", left, d.world.Queue, dead,
		c.mark(left == 0 && dead == 0, "%d messages left in the queue, %d in the DLQ", left, dead))
	return nil
}

// printRinAccount repeats the counts rin logs when it stops; they show the
// duplicate delivery recognised rather than loaded twice.
func (d *demo) printRinAccount() {
	kv := stoppedLine(filepath.Join(d.out, logFile))
	if kv == nil {
		return
	}
	d.printf("  rin's own count: %s messages, %s jobs, %s copied, %s duplicates (not loaded again), %s failed\n",
		or0(kv["messages"]), or0(kv["jobs"]), or0(kv["copied"]), or0(kv["duplicates"]), or0(kv["failed"]))
}

func or0(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

// printBatching compares COPY statements with objects: rin loads many
// objects per COPY through a manifest, which is what makes it fast on a
// real cluster, where each COPY costs seconds.
func (d *demo) printBatching(c *checks) {
	s := d.st.Redshift().Stats()
	objects, _ := d.plan.Loadable()
	per := 0.0
	if s.Copies > 0 {
		per = float64(objects) / float64(s.Copies)
	}
	d.printf("\nBatching: %d COPY statements loaded %d objects (%.1f objects per COPY, through manifests); %d COPYs failed %s\n",
		s.Copies, objects, per, s.CopiesFailed,
		c.mark(s.Copies > 0 && s.Copies <= int64(objects), "%d COPYs for %d objects", s.Copies, objects))
}

func (d *demo) printFiles() {
	cfg, log, jnl := filepath.Join(d.out, configFile), filepath.Join(d.out, logFile), filepath.Join(d.out, journalFile)
	d.printf("\nFiles:\n  config   %s\n  log      %s\n  journal  %s   (go run ./cmd/rin-journal -journal %s stats -format table)\n",
		d.rel(cfg), d.rel(log), d.rel(jnl), d.rel(jnl))
}

// logTail returns the last n lines of a file.
func logTail(path string, n int) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return []string{err.Error()}
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}
