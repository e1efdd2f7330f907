package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rinhq/rin/internal/stack"
)

// demo is one run: its options, where it writes, and what it started.
type demo struct {
	opts  options
	w     io.Writer
	tty   bool
	log   *slog.Logger
	plan  *plan
	start time.Time

	out    string // absolute output directory
	tmp    string // rin's binary (and the admin socket if out's path is too long for one)
	st     *stack.Stack
	world  *world
	bin    string
	socket string // rin's admin socket, for progress
	// password is the simulator's: the config needs it, the printout masks it.
	password string
}

// Files the demo writes into the output directory (and removes first, so
// a second run starts clean: an old journal would dedupe the new objects
// away if the names ever repeated).
const (
	configFile  = "config.yaml"
	logFile     = "rin.log"
	journalFile = "rin.journal.db"
	socketFile  = "rin.sock"
)

func (d *demo) printf(format string, args ...any) { fmt.Fprintf(d.w, format, args...) }

// run starts everything, runs the demo and stops everything, whatever
// happened; the last line says whether all checks passed.
func (d *demo) run(ctx context.Context) (err error) {
	if err := d.prepareOut(); err != nil {
		return err
	}
	if d.tmp, err = os.MkdirTemp("", "rin-demo-"); err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(d.tmp)

	n, rows := d.plan.Loadable()
	d.printf("rin demo: %d S3 objects → S3 event notifications on SQS → rin → Redshift (simulated); everything local.\n", len(d.plan.Samples))
	d.printf("Expecting %d objects (%s rows) in %d tables; %d objects must be discarded.\n\n", n, commas(rows), len(d.plan.Tables), d.plan.Discarded())

	// Building rin takes as long as starting the stack: do both at once.
	build := d.startBuild(ctx)
	defer build.cancel() // on an early return; a finished build ignores it

	if err := d.startStack(ctx); err != nil {
		build.cancel()
		build.wait()
		return err
	}
	err = d.main(ctx, build)
	build.cancel() // main may have failed before it needed rin
	build.wait()
	if d.opts.keep && ctx.Err() == nil {
		d.keep(ctx) // also after a failed check: the stack is there to look into it
	}
	d.printf("\nStopping the stack…")
	cerr := d.st.Close()
	if cerr != nil {
		d.printf(" failed.\n")
		err = errors.Join(err, fmt.Errorf("close stack: %w", cerr))
	} else {
		d.printf(" done: rin exited, PostgreSQL, goaws and the simulator stopped.\n")
	}
	took := time.Since(d.start).Seconds()
	if err != nil {
		d.printf("✘ Demo failed after %.1fs.\n", took) // main prints err
		return err
	}
	d.printf("✔ Every table holds the expected rows, nothing was loaded twice and nothing discarded was loaded (%.1fs).\n", took)
	return nil
}

// prepareOut creates the output directory and removes the demo's files of
// an earlier run (only those: -out may name a directory with other files).
func (d *demo) prepareOut() error {
	out, err := filepath.Abs(d.opts.out)
	if err != nil {
		return fmt.Errorf("-out: %w", err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("-out: %w", err)
	}
	for _, f := range []string{configFile, logFile, journalFile, socketFile} {
		if err := os.Remove(filepath.Join(out, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("clean %s: %w", out, err)
		}
	}
	d.out = out
	return nil
}

// startStack starts the stack with a password on the simulator, so the
// generated config shows where the real one goes.
func (d *demo) startStack(ctx context.Context) error {
	t := time.Now()
	d.printf("Starting the local stack (PostgreSQL, Redshift simulator, goaws, gofakes3)…")
	d.password = "demo-" + randHex(8)
	st, err := stack.Start(ctx, stack.Options{
		Redshift: stack.RedshiftOptions{Password: d.password},
		Logger:   d.log,
	})
	if err != nil {
		d.printf(" failed.\n")
		return fmt.Errorf("start the local stack: %w", err)
	}
	d.st = st
	d.printf(" up in %.1fs\n", time.Since(t).Seconds())
	d.printf("  redshift  %s (database %s)\n  sqs       %s\n  s3        %s\n\n", st.Redshift().Addr(), st.Database(), st.SQS().Endpoint(), st.S3().Endpoint())
	return nil
}

// build is rin's build running in the background.
type build struct {
	done   chan struct{}
	cancel context.CancelFunc
	bin    string
	err    error
	took   time.Duration
}

func (d *demo) startBuild(ctx context.Context) *build {
	ctx, cancel := context.WithCancel(ctx)
	b := &build{done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(b.done)
		t := time.Now()
		b.bin, b.err = buildRin(ctx, d.tmp)
		b.took = time.Since(t)
	}()
	return b
}

// wait returns once the build has ended (no go build outlives the demo).
func (b *build) wait() { <-b.done }

// main provisions, uploads, runs rin and reports.
func (d *demo) main(ctx context.Context, b *build) error {
	w, err := provision(ctx, d.st, d.plan)
	if err != nil {
		return err
	}
	d.world = w
	d.printf("Created bucket %s, queue %s (dead-letter queue %s after 3 receives),\n  tables %s\n",
		w.Bucket, w.Queue, stack.DLQName(w.Queue), strings.Join(tableNames(d.plan.Tables), ", "))

	if err := d.uploadAndNotify(ctx); err != nil {
		return err
	}

	d.printf("Building rin…")
	b.wait()
	if b.err != nil {
		d.printf(" failed.\n")
		return b.err
	}
	d.bin = b.bin
	d.printf(" done in %.1fs (go build, from the module root)\n\n", b.took.Seconds())

	cfgPath, err := d.writeConfig()
	if err != nil {
		return err
	}
	run := d.runRin(ctx, cfgPath)
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: %w", ctx.Err())
	}
	var c checks
	if err := d.report(ctx, run, &c); err != nil {
		return errors.Join(run.err, err)
	}
	return errors.Join(run.err, c.err())
}

func tableNames(ts []*table) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.QName()
	}
	return out
}

// uploadAndNotify uploads the objects, then sends their events (S3 would
// send each right after its upload; sending after all uploads keeps rin's
// run, which starts later, the same).
func (d *demo) uploadAndNotify(ctx context.Context) error {
	t := time.Now()
	events, err := upload(ctx, d.st, d.world.Bucket, d.plan.Samples)
	if err != nil {
		return err
	}
	var gz, pq, logs, tmp int
	var rows int64
	for _, s := range d.plan.Samples {
		rows += int64(s.Rows)
		switch {
		case strings.HasPrefix(s.Key, eventsPrefix):
			gz++
		case strings.HasPrefix(s.Key, ordersPrefix):
			pq++
		case strings.HasPrefix(s.Key, discardPrefix):
			tmp++
		default:
			logs++
		}
	}
	d.printf("Uploaded %d objects (%s rows) in %.1fs: %d of JSON lines gzip-compressed under %s, %d Parquet under %s,\n  %d of JSON lines under logs/, %d scratch files under %s\n",
		len(events), commas(rows), time.Since(t).Seconds(), gz, eventsPrefix, pq, ordersPrefix, logs, tmp, discardPrefix)

	n := buildNotifications(d.world.Bucket, events, d.plan.Samples)
	if err := d.st.SQS().SendBatch(ctx, d.world.QueueURL, n.Bodies); err != nil {
		return err
	}
	d.printf("Sent %d SQS messages carrying %d object records: %d s3:TestEvent, %d EventBridge event, %d S3 notification through SNS,\n  %d S3 notifications (%d with several records), of which %d a duplicate delivery of an event already sent\n",
		len(n.Bodies), n.Records, n.Test, n.EventBridge, n.SNS, n.S3, n.MultiS3, n.Duplicates)
	return nil
}

// writeConfig writes config.yaml and prints it with its secrets masked.
func (d *demo) writeConfig() (string, error) {
	host, port := d.st.RedshiftHostPort()
	socket := filepath.Join(d.out, socketFile)
	if len(socket) > maxSocketPath {
		socket = filepath.Join(d.tmp, socketFile)
	}
	d.socket = socket
	c := rinConfig{
		Queue: d.world.Queue, Bucket: d.world.Bucket,
		Host: host, Port: port, DBName: d.st.Database(), User: stack.RedshiftUser, Password: d.password,
		AccessKey: stack.AccessKeyID, SecretKey: stack.SecretAccessKey, Region: stack.Region,
		Journal: filepath.Join(d.out, journalFile), Socket: socket,
		EventsPrefix: eventsPrefix, Discard: discardPrefix, LogsRegexp: logsRegexp, OrdersPrefix: ordersPrefix,
	}
	path := filepath.Join(d.out, configFile)
	shown, err := c.write(path)
	if err != nil {
		return "", err
	}
	d.printf("%s (secrets masked):\n", d.rel(path))
	for _, line := range strings.Split(strings.TrimRight(string(shown), "\n"), "\n") {
		d.printf("  │ %s\n", line)
	}
	d.printf("\n")
	return path, nil
}

// maxSocketPath keeps the admin socket's path within what a unix socket
// address holds (108 bytes on Linux, 104 on BSDs).
const maxSocketPath = 100

// rel shows path relative to the working directory when it is below it.
func (d *demo) rel(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	r, err := filepath.Rel(wd, path)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return path
	}
	return r
}
