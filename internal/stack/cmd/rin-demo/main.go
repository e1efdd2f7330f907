// Command rin-demo (`make demo`) shows rin end to end on one machine with no
// AWS account and nothing running beforehand: it starts the local AWS stack
// (PostgreSQL behind the Redshift simulator, goaws, gofakes3), uploads a few
// hundred log files and Parquet exports for four kinds of target, sends
// their S3 event notifications in every shape a real queue receives, runs
// the real rin binary in -batch mode with a generated config until
// everything is loaded, and then compares the tables and the journal with
// what it uploaded.
//
// It exits non-zero when a count is wrong or rin fails, and it stops
// everything it started, so it doubles as a smoke test (demo_test.go).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rinhq/rin/internal/version"
)

// Version is set at build time (-ldflags "-X main.Version=...").
var Version = version.Unset

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp): // -h asked for the usage; it is printed
	default:
		fmt.Fprintln(os.Stderr, "rin-demo:", err)
		os.Exit(1)
	}
}

// options are the command line.
type options struct {
	objects int
	out     string
	keep    bool
	timeout time.Duration
	verbose bool
	version bool
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("rin-demo", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	fs.IntVar(&o.objects, "objects", 300, fmt.Sprintf("how many S3 objects to upload (at least %d)", minObjects))
	fs.StringVar(&o.out, "out", "demo-output", "directory for rin's config, log and journal (emptied of them first)")
	fs.BoolVar(&o.keep, "keep", false, "keep the stack running after the summary, until Ctrl-C")
	fs.DurationVar(&o.timeout, "timeout", 2*time.Minute, "give up on rin after this long")
	fs.BoolVar(&o.verbose, "v", false, "log the stack's diagnostics to stderr")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: rin-demo [flags]\n\nStarts a local AWS stack, uploads sample objects, runs rin until they are loaded, and checks the result.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q (flags only)", fs.Arg(0))
	}
	if o.timeout <= 0 {
		return o, fmt.Errorf("-timeout %s: must be positive", o.timeout)
	}
	return o, nil
}

// run is the whole demo; main only adds signals and the exit code.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	if o.version {
		fmt.Fprintln(stdout, version.Get("rin-demo", Version))
		return nil
	}
	p, err := newPlan(o.objects)
	if err != nil {
		return err
	}
	level := slog.LevelWarn // the demo's output is for people; the stack's logs are not
	if o.verbose {
		level = slog.LevelDebug
	}
	d := &demo{
		opts:  o,
		w:     stdout,
		tty:   isTerminal(stdout),
		log:   slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
		plan:  p,
		start: time.Now(),
	}
	return d.run(ctx)
}

// isTerminal reports whether w is a terminal, where progress redraws one
// line in place.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
