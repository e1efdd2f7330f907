// Command rin-journal inspects and maintains rin's job journal: dump, stats,
// rejected, requeue, forget, check and compact.
//
// While rin runs it holds the journal file, so rin-journal performs the
// command through rin's admin socket; with no rin running it opens the file
// itself. See the Operations section of README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/rinhq/rin/internal/version"
)

// Version is set at build time (-ldflags "-X main.Version=...").
var Version = version.Unset

// errNoCommand is a usage error: rin-journal was run without a command.
var errNoCommand = errors.New("no command given")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &Main{Stdout: os.Stdout, Stderr: os.Stderr, Terminal: isTerminal(os.Stdout)}
	err := m.Run(ctx, os.Args[1:])
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp): // -h asked for the usage; it is printed
	case errors.Is(err, errNoCommand):
		os.Exit(2) // the usage is printed
	default:
		fmt.Fprintln(os.Stderr, "rin-journal:", err)
		os.Exit(1)
	}
}

// isTerminal reports whether f is a terminal, which makes tables the
// default output (JSON lines otherwise, for pipes and scripts).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Main is the command line: global flags, then a subcommand.
type Main struct {
	Stdout, Stderr io.Writer
	// Terminal: stdout is a terminal (tables by default).
	Terminal bool
}

// Run parses the global flags and runs the subcommand.
//
// bbolt panics on pages it cannot parse. Reading a damaged journal must
// end in a one-line error, not a stack trace, so such a panic (always in
// this goroutine: dump, stats, rejected and check read here) becomes an
// error.
func (m *Main) Run(ctx context.Context, args []string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("reading the journal failed (is it corrupt? see rin-journal check): %v", r)
		}
	}()
	env := &Env{Stdout: m.Stdout, Stderr: m.Stderr, Terminal: m.Terminal}
	fs := flag.NewFlagSet("rin-journal", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	env.Globals.register(fs)
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() { m.usage(fs) }
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *showVersion {
		fmt.Fprintln(m.Stdout, version.Get("rin-journal", Version))
		return nil
	}
	if fs.NArg() == 0 {
		m.usage(fs)
		return errNoCommand
	}
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	switch cmd {
	case "dump":
		return (&DumpCommand{env: env}).Run(ctx, rest)
	case "stats":
		return (&StatsCommand{env: env}).Run(ctx, rest)
	case "rejected":
		return (&RejectedCommand{env: env}).Run(ctx, rest)
	case "requeue":
		return (&RequeueCommand{env: env}).Run(ctx, rest)
	case "forget":
		return (&ForgetCommand{env: env}).Run(ctx, rest)
	case "check":
		return (&CheckCommand{env: env}).Run(ctx, rest)
	case "compact":
		return (&CompactCommand{env: env}).Run(ctx, rest)
	case "help":
		m.usage(fs)
		return nil
	default:
		return fmt.Errorf("unknown command %q (commands: dump, stats, rejected, requeue, forget, check, compact)", cmd)
	}
}

func (m *Main) usage(fs *flag.FlagSet) {
	fmt.Fprint(m.Stderr, `Usage: rin-journal [global flags] <command> [flags]

Inspect and maintain rin's job journal. While rin runs, commands go through
its admin socket; otherwise rin-journal opens the journal file itself.

Commands:
  dump      list jobs (JSON lines, or a table on a terminal)
  stats     jobs per state and target, oldest pending job, frequent errors
  rejected  list SQS messages rin could not parse, newest first
  requeue   send failed jobs back to received (by id, or -all-failed)
  forget    drop acked jobs older than a retention (the dedupe window)
  check     verify the journal file; non-zero exit when something is wrong
  compact   rewrite the journal into a smaller file (rin must be stopped)

Global flags (also accepted after the command):
`)
	fs.PrintDefaults()
	fmt.Fprintln(m.Stderr, "\nRun 'rin-journal <command> -help' for a command's flags.")
}
