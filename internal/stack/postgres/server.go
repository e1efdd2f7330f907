// Package postgres runs the local stack's PostgreSQL: a throwaway cluster,
// or an external server named by RIN_TEST_POSTGRES_DSN. It is a leaf package
// so that the Redshift simulator's own tests can start one too.
package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rinhq/rin/internal/proc"
)

// Options configures Start.
type Options struct {
	// ExternalDSN, when set, names an existing server to use instead of
	// starting one (a libpq URL). Defaults to $RIN_TEST_POSTGRES_DSN.
	ExternalDSN string
	// BinDir holds initdb and postgres; searched for when empty.
	BinDir string
	// StartTimeout bounds how long the server may take to accept
	// connections (default 60s; the machines are shared and slow).
	StartTimeout time.Duration
	Logger       *slog.Logger
}

// Server is a running PostgreSQL server: a throwaway cluster owned by this
// process, or an external one named by RIN_TEST_POSTGRES_DSN.
type Server struct {
	dsn  string      // URL of the "postgres" database (or the external DSN)
	dir  string      // temp dir with data/ and the socket; empty when external
	proc *proc.Child // nil when external
	log  *slog.Logger

	stopOnce sync.Once
	stopErr  error
}

// Start starts a throwaway cluster on a free loopback port (or
// attaches to RIN_TEST_POSTGRES_DSN) and returns once it accepts connections.
// fsync is off: the data is disposable and the machines are shared.
func Start(ctx context.Context, opts Options) (*Server, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	if opts.ExternalDSN == "" {
		opts.ExternalDSN = os.Getenv("RIN_TEST_POSTGRES_DSN")
	}
	if opts.ExternalDSN != "" {
		return attach(ctx, opts.ExternalDSN, log)
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 60 * time.Second
	}
	bin, err := findPostgresBin(opts.BinDir)
	if err != nil {
		return nil, err
	}
	cred, err := postgresCredential()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "rin-pg-")
	if err != nil {
		return nil, fmt.Errorf("postgres temp dir: %w", err)
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("chown %s to postgres: %w", dir, err)
		}
	}
	p := &Server{dir: dir, log: log}
	if err := p.initdb(ctx, bin, cred); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	// A free port can be taken between probing and binding; retry a few times.
	for attempt := 1; ; attempt++ {
		err = p.start(ctx, bin, cred, opts.StartTimeout)
		if err == nil {
			log.Info("postgres started", "dsn", p.dsn, "dir", dir)
			return p, nil
		}
		if attempt == 3 || ctx.Err() != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		log.Warn("postgres start failed, retrying", "attempt", attempt, "err", err)
	}
}

func attach(ctx context.Context, dsn string, log *slog.Logger) (*Server, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("RIN_TEST_POSTGRES_DSN must be a postgres:// URL, got %q", RedactDSN(dsn))
	}
	q := u.Query()
	if q.Get("sslmode") == "" {
		q.Set("sslmode", "disable")
		u.RawQuery = q.Encode()
	}
	p := &Server{dsn: u.String(), log: log}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, p.dsn)
	if err != nil {
		return nil, fmt.Errorf("connect to external postgres %s: %w", RedactDSN(p.dsn), err)
	}
	conn.Close(ctx)
	log.Info("using external postgres", "dsn", RedactDSN(p.dsn))
	return p, nil
}

func (p *Server) initdb(ctx context.Context, bin string, cred *syscall.Credential) error {
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "initdb"),
		"-D", filepath.Join(p.dir, "data"),
		"--auth=trust", "-U", "postgres", "-E", "UTF8", "--no-locale", "--no-sync")
	cmd.Dir = p.dir // root's cwd may be unreadable for the postgres user
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	c, err := proc.Start(cmd, syscall.SIGKILL, cred)
	if err != nil {
		return fmt.Errorf("start initdb: %w", err)
	}
	<-c.Done()
	if err := c.Err(); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out.Bytes())
	}
	return nil
}

func (p *Server) start(ctx context.Context, bin string, cred *syscall.Credential, timeout time.Duration) error {
	port, err := proc.FreePort()
	if err != nil {
		return err
	}
	logPath := filepath.Join(p.dir, "postgres.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("postgres log: %w", err)
	}
	defer logf.Close() // the child holds its own descriptor
	// Not CommandContext: the server must outlive the start context; Stop ends it.
	cmd := exec.Command(filepath.Join(bin, "postgres"),
		"-D", filepath.Join(p.dir, "data"),
		"-p", strconv.Itoa(port),
		"-k", p.dir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off",
		"-c", "max_connections=200")
	cmd.Dir = p.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	// SIGQUIT is PostgreSQL's immediate shutdown: the postmaster takes its
	// backends down with it if this process dies without calling Stop.
	child, err := proc.Start(cmd, syscall.SIGQUIT, cred)
	if err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	p.proc = child
	p.dsn = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	if err := p.waitReady(ctx, timeout); err != nil {
		_ = child.Stop(syscall.SIGQUIT, 5*time.Second)
		tail, _ := os.ReadFile(logPath)
		return fmt.Errorf("postgres on port %d: %w\nserver log:\n%s", port, err, proc.LastBytes(tail, 2000))
	}
	return nil
}

func (p *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		cctx, ccancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(cctx, p.dsn)
		ccancel()
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		select {
		case <-p.proc.Done():
			return fmt.Errorf("server exited during startup: %v", p.proc.Err())
		case <-ctx.Done():
			return fmt.Errorf("not accepting connections: %w (last error: %v)", ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// DSN returns a libpq URL (sslmode=disable) for the "postgres" database as
// superuser.
func (p *Server) DSN() string { return p.dsn }

// External reports whether the server is RIN_TEST_POSTGRES_DSN's rather than
// one this process started.
func (p *Server) External() bool { return p.proc == nil }

// Stop shuts the server down (SIGINT = fast shutdown, then SIGKILL of its
// process group after 10s) and removes its directory. It is a no-op for an
// external server and safe to call more than once.
func (p *Server) Stop() error {
	p.stopOnce.Do(func() {
		if p.proc == nil {
			return
		}
		err := p.proc.Stop(syscall.SIGINT, 10*time.Second)
		if rmErr := os.RemoveAll(p.dir); rmErr != nil {
			err = errors.Join(err, fmt.Errorf("remove %s: %w", p.dir, rmErr))
		}
		if err != nil {
			p.stopErr = fmt.Errorf("stop postgres: %w", err)
		}
		p.log.Info("postgres stopped", "dir", p.dir)
	})
	return p.stopErr
}

// Pid returns the postmaster's process id, or 0 for an external server.
func (p *Server) Pid() int {
	if p.proc == nil {
		return 0
	}
	return p.proc.Pid()
}

// RedactDSN hides the password of a URL-form DSN for logs and errors.
func RedactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "<unparsable DSN>"
	}
	return u.Redacted()
}
