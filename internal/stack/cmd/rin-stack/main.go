// Command rin-stack runs the local AWS stack (PostgreSQL, the Redshift
// simulator, goaws for SQS, gofakes3 for S3) in one process until SIGINT or
// SIGTERM, for `make demo` and benchmarks, where a separate rin process runs
// against it.
//
// Once everything is up it writes `export K=V` lines to -env-file (atomically,
// so a script may wait for the file to appear) and to stdout: the standard
// AWS settings that point SDKs at the emulators (see stack.Stack.Env) and
//
//	RIN_STACK_CONTROL         http://ADDR of the control server
//	RIN_STACK_REDSHIFT_HOST   simulator host
//	RIN_STACK_REDSHIFT_PORT   simulator port
//	RIN_STACK_REDSHIFT_DSN    libpq URL for the simulator
//	RIN_STACK_DATABASE        database name behind the simulator
//	RIN_STACK_PG_DSN          PostgreSQL DSN of that database (bypasses the simulator)
//	RIN_STACK_BUCKET          the -bucket, when given
//	RIN_STACK_QUEUE           the -queue, when given
//	RIN_STACK_QUEUE_URL       its URL
//	RIN_STACK_DLQ_URL         its dead-letter queue's URL
//
// The control server (-control, loopback) serves GET /ready (200 once the
// stack is up), GET /env (the same lines) and the simulator's fault-injection
// and stats endpoints (/faults..., /stats; see redshiftsim.ControlHandler),
// and /stack/... endpoints that act on the whole stack (a bucket's region,
// one more simulator, a Data API server; see extras), which rin's module
// tests use through internal/stackproc.
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

	"github.com/rinhq/rin/internal/version"
)

// Version is set at build time (-ldflags "-X main.Version=...").
var Version = version.Unset

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp): // -h asked for the usage; it is printed
	default:
		fmt.Fprintln(os.Stderr, "rin-stack:", err)
		stop()
		os.Exit(1)
	}
}

// config is the parsed command line.
type config struct {
	envFile           string
	control           string
	bucket            string
	versioned         bool
	queue             string
	visibilityTimeout int
	maxReceiveCount   int
	redshiftAddr      string
	redshiftPassword  string
	debug             bool
	showVersion       bool
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("rin-stack", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.envFile, "env-file", "", "write \"export K=V\" lines to this file once the stack is up")
	fs.StringVar(&c.control, "control", "127.0.0.1:0", "loopback address of the control/readiness HTTP server")
	fs.StringVar(&c.bucket, "bucket", "", "create this S3 bucket")
	fs.BoolVar(&c.versioned, "versioned", false, "enable versioning on -bucket")
	fs.StringVar(&c.queue, "queue", "", "create this SQS queue, with a dead-letter queue <queue>-dlq")
	fs.IntVar(&c.visibilityTimeout, "visibility-timeout", 30, "visibility timeout of -queue, seconds")
	fs.IntVar(&c.maxReceiveCount, "max-receive-count", 3, "receives before a message of -queue moves to its DLQ")
	fs.StringVar(&c.redshiftAddr, "redshift-addr", "127.0.0.1:0", "listen address of the Redshift simulator")
	fs.StringVar(&c.redshiftPassword, "redshift-password", "", "password the simulator demands (empty: any)")
	fs.BoolVar(&c.debug, "debug", false, "debug logging")
	fs.BoolVar(&c.showVersion, "version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: rin-stack [flags]\n\nRuns the local AWS stack (PostgreSQL, the Redshift simulator, goaws, gofakes3) until SIGINT or SIGTERM.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if c.bucket != "" {
		if err := checkBucketName(c.bucket); err != nil {
			return c, fmt.Errorf("-bucket %q: %w", c.bucket, err)
		}
	}
	return c, nil
}

// checkBucketName applies S3's bucket naming rules, which gofakes3 and
// AWS enforce, so that a bad -bucket fails before the stack starts rather
// than after, in an emulator's error.
func checkBucketName(name string) error {
	if len(name) < 3 || len(name) > 63 {
		return fmt.Errorf("a bucket name has 3 to 63 characters")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		edge := i == 0 || i == len(name)-1
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '-' || c == '.') && !edge:
		default:
			return fmt.Errorf("a bucket name has lowercase letters, digits, '-' and '.', and begins and ends with a letter or digit")
		}
	}
	return nil
}

func newLogger(w io.Writer, debug bool) *slog.Logger {
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
