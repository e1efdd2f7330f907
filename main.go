// Command rin loads S3 objects into Redshift as their S3 event
// notifications arrive on SQS: SQS message → jobs → journal → COPY → ack.
//
// It reads the original Rin's config.yaml unchanged; see README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/rinhq/rin/internal/version"
)

// Version is set at build time (-ldflags "-X main.Version=...").
var Version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd, args := commandFor(os.Args[1:], os.Stdout, os.Stderr, os.Getenv) // rin, rin backfill, rin reconcile (commands.go)
	err := cmd.Run(ctx, args)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp): // -h asked for the usage; it is printed
	default:
		fmt.Fprintln(os.Stderr, "rin:", err)
		os.Exit(1)
	}
}

// RunCommand is the rin command: its flags and what they start.
type RunCommand struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string

	ConfigPath       string
	Debug            bool
	ShowVersion      bool
	Batch            bool
	MaxExecutionTime time.Duration
	DryRun           bool
	DryRunKeys       keyList // -key: with -dry-run, route these objects
	LogFormat        string
}

// ParseFlags reads the original Rin's flags. Every long flag can also come
// from the environment as RIN_<FLAG> (RIN_CONFIG, RIN_BATCH,
// RIN_MAX_EXECUTION_TIME, ...); the command line wins.
func (c *RunCommand) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("rin", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	fs.StringVar(&c.ConfigPath, "config", "config.yaml", "config file: a path, file://, http(s):// or s3://bucket/key URL")
	fs.StringVar(&c.ConfigPath, "c", "config.yaml", "shorthand for -config")
	fs.BoolVar(&c.Debug, "debug", false, "debug logging")
	fs.BoolVar(&c.Debug, "d", false, "shorthand for -debug")
	fs.BoolVar(&c.ShowVersion, "version", false, "print the version and exit")
	fs.BoolVar(&c.ShowVersion, "v", false, "shorthand for -version")
	fs.BoolVar(&c.Batch, "batch", false, "process until the queue is empty and no job is pending, then exit")
	fs.BoolVar(&c.Batch, "b", false, "shorthand for -batch")
	fs.DurationVar(&c.MaxExecutionTime, "max-execution-time", 0, "stop (gracefully) after this long, e.g. 10m; 0 = no limit")
	fs.BoolVar(&c.DryRun, "dry-run", false, "load the config, print each target as resolved with its COPY (no secrets, no AWS call), and exit")
	fs.Var(&c.DryRunKeys, "key", "with -dry-run: show the targets and table of this object, s3://bucket/key (repeatable; as rin route)")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json")
	fs.Usage = func() {
		fmt.Fprintf(c.Stderr, "Usage: rin [flags]\n       rin backfill|reconcile|doctor|route [flags] ... (each takes -h)\n\nrin loads S3 objects into Redshift, driven by S3 event notifications on SQS.\nEvery flag can also be set as RIN_<FLAG> in the environment (e.g. RIN_CONFIG, RIN_MAX_EXECUTION_TIME).\n\nCommands:\n  backfill   load objects already in S3 that never had an event (s3://bucket/prefix/)\n  reconcile  report, per target, objects in S3 and not loaded, and loaded but gone\n  doctor     check the queue, buckets, Redshift, tables, ledger and a COPY before going live\n  route      show which targets an s3://bucket/key goes to, and the table it resolves to\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (flags only; see rin -help)", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	aliases := map[string]string{"c": "config", "d": "debug", "v": "version", "b": "batch"}
	for short, long := range aliases {
		if given[short] {
			given[long] = true
		}
	}
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if _, short := aliases[f.Name]; short || given[f.Name] {
			return
		}
		env := "RIN_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := c.Getenv(env); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", env, v, err))
			}
		}
	})
	return errors.Join(errs...)
}

// Run parses args and runs rin until ctx is cancelled, the batch is done,
// or the maximum execution time is reached.
func (c *RunCommand) Run(ctx context.Context, args []string) error {
	if err := c.ParseFlags(args); err != nil {
		return err
	}
	if c.ShowVersion {
		fmt.Fprintln(c.Stdout, version.Get("rin", Version))
		return nil
	}
	log := newLogger(c.Stderr, c.Debug, c.LogFormat)
	defer watchSignals(log, c.Stderr)() // SIGHUP is harmless, SIGQUIT dumps stacks (signals.go)
	// Profiling for benchmarks (profile.go); off unless RIN_CPUPROFILE/RIN_MEMPROFILE are set.
	stopProfiles, err := startProfiles(c.Getenv)
	if err != nil {
		return err
	}
	defer stopProfiles()
	if inLambda(c.Getenv) {
		return c.serveLambda(ctx, log) // lambda.go
	}
	if c.MaxExecutionTime > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.MaxExecutionTime)
		defer cancel()
	}
	if c.DryRun {
		return c.dryRun(ctx, log) // offline: no AWS client (dryrun.go)
	}
	d, err := loadDaemon(ctx, c.ConfigPath, log)
	if err != nil {
		return err
	}
	return d.run(ctx, c.Batch)
}
