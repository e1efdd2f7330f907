package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rinhq/rin/internal/stack"
	"github.com/rinhq/rin/internal/version"
)

// run starts the stack, publishes its environment, serves the control
// endpoint and blocks until ctx ends; then it shuts everything down.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if cfg.showVersion {
		fmt.Fprintln(stdout, version.Get("rin-stack", Version))
		return nil
	}
	log := newLogger(stderr, cfg.debug)
	if err := checkLoopback(cfg.control); err != nil {
		return err
	}

	s, err := stack.Start(ctx, stack.Options{
		Redshift: stack.RedshiftOptions{Addr: cfg.redshiftAddr, Password: cfg.redshiftPassword},
		Logger:   log,
	})
	if err != nil {
		return fmt.Errorf("start stack: %w", err)
	}
	defer func() {
		log.Info("shutting down")
		if cerr := s.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close stack: %w", cerr))
		}
	}()

	extra, err := provision(ctx, s, cfg)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.control)
	if err != nil {
		return fmt.Errorf("control listen %s: %w", cfg.control, err)
	}
	controlURL := "http://" + ln.Addr().String()
	host, port := s.RedshiftHostPort()
	env := append(s.Env(),
		"RIN_STACK_CONTROL="+controlURL,
		"RIN_STACK_REDSHIFT_HOST="+host,
		"RIN_STACK_REDSHIFT_PORT="+strconv.Itoa(port),
		"RIN_STACK_REDSHIFT_DSN="+s.RedshiftDSN(),
		"RIN_STACK_DATABASE="+s.Database(),
		"RIN_STACK_PG_DSN="+s.BackendDSN(),
	)
	env = append(env, extra...)
	lines := exportLines(env)

	x := &extras{s: s, log: log}
	defer func() {
		if cerr := x.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close extras: %w", cerr))
		}
	}()
	srv := &http.Server{Handler: controlHandler(s, x, lines), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()

	if cfg.envFile != "" {
		if err := writeFileAtomic(cfg.envFile, []byte(lines)); err != nil {
			return err
		}
		defer os.Remove(cfg.envFile) // stale endpoints would mislead the next run
	}
	fmt.Fprint(stdout, lines)
	log.Info("stack ready", "control", controlURL, "redshift", net.JoinHostPort(host, strconv.Itoa(port)))

	select {
	case <-ctx.Done():
		return nil
	case err := <-served:
		return fmt.Errorf("control server: %w", err)
	}
}

// provision creates the requested bucket and queue and returns their
// environment lines.
func provision(ctx context.Context, s *stack.Stack, cfg config) ([]string, error) {
	var env []string
	if cfg.bucket != "" {
		if err := s.S3().CreateBucket(ctx, cfg.bucket); err != nil {
			return nil, err
		}
		if cfg.versioned {
			if err := s.S3().EnableVersioning(ctx, cfg.bucket); err != nil {
				return nil, err
			}
		}
		env = append(env, "RIN_STACK_BUCKET="+cfg.bucket)
	}
	if cfg.queue != "" {
		url, err := s.SQS().CreateQueue(ctx, cfg.queue, stack.QueueOptions{
			VisibilityTimeout: cfg.visibilityTimeout, DeadLetter: true, MaxReceiveCount: cfg.maxReceiveCount,
		})
		if err != nil {
			return nil, err
		}
		dlq, err := s.SQS().QueueURL(ctx, stack.DLQName(cfg.queue))
		if err != nil {
			return nil, err
		}
		env = append(env, "RIN_STACK_QUEUE="+cfg.queue, "RIN_STACK_QUEUE_URL="+url, "RIN_STACK_DLQ_URL="+dlq)
	}
	return env, nil
}

// controlHandler serves readiness, the environment, the stack's extras and
// the simulator's control endpoints. It is only reachable once the stack is up, so /ready
// needs no state of its own.
func controlHandler(s *stack.Stack, x *extras, envLines string) http.Handler {
	mux := http.NewServeMux()
	x.register(mux)
	mux.HandleFunc("GET /ready", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ready")
	})
	mux.HandleFunc("GET /env", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, envLines)
	})
	mux.Handle("/", s.Redshift().ControlHandler())
	return mux
}

// exportLines renders env as shell `export K='V'` lines, quoting values so
// DSNs with & or ? survive `source`.
func exportLines(env []string) string {
	var b strings.Builder
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&b, "export %s=%s\n", k, shellQuote(v))
	}
	return b.String()
}

func shellQuote(v string) string {
	if v != "" && strings.IndexFunc(v, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@,=+", r))
	}) < 0 {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}

// writeFileAtomic writes via a temp file and rename, so a reader polling for
// the file never sees it half-written.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".rin-stack-env-*")
	if err != nil {
		return fmt.Errorf("env file: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("env file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("env file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("env file: %w", err)
	}
	return nil
}

// checkLoopback refuses a control address that is not on loopback: the
// control endpoints can fail every COPY.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-control %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-control %q: must be a loopback address", addr)
	}
	return nil
}
