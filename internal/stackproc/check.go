package stackproc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"

	"github.com/rinhq/rin/internal/proc"
)

// CheckStart handles the error of starting a stack or one of its parts:
// nil passes, a missing PostgreSQL skips (fails under CI=true), anything
// else fails the test.
func CheckStart(t testing.TB, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if errors.Is(err, proc.ErrNoPostgres) && !InCI() {
		t.Skip(err)
	}
	t.Fatal(err)
}

// InCI reports whether the CI environment variable is "true" (GitHub
// Actions and most CI systems set it).
func InCI() bool { return os.Getenv("CI") == "true" }

// Logger returns a logger writing through t.Log at warn level (debug with
// RIN_STACK_DEBUG=1), so stack noise shows only for failing or -v tests.
func Logger(t testing.TB) *slog.Logger {
	level := slog.LevelWarn
	if os.Getenv("RIN_STACK_DEBUG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: level}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}

// Lazy is a stack (or any closable value) shared by every test of a test
// binary: started on the first Get, closed by Close. Shared here and
// stacktest.Shared are Lazy with their own start.
type Lazy[T interface{ Close() error }] struct {
	once    sync.Once
	v       T
	started bool
	err     error
}

// Get returns the value, calling start (with a context bounded by the start
// timeout) on first use. A start failure is reported to every test that
// asks (skip or fail, as CheckStart decides).
func (l *Lazy[T]) Get(t testing.TB, start func(context.Context) (T, error)) T {
	t.Helper()
	l.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		defer cancel()
		l.v, l.err = start(ctx)
		l.started = l.err == nil
	})
	CheckStart(t, l.err)
	return l.v
}

// Close closes the value if it was started; no start happens after Close.
func (l *Lazy[T]) Close() error {
	l.once.Do(func() {})
	if l.started {
		return l.v.Close()
	}
	return nil
}

// RunMain runs the tests, then close (which stops what they shared), and
// exits; a failing close fails the run.
func RunMain(m *testing.M, name string, close func() error) {
	code := m.Run()
	if err := close(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: close shared stack: %v\n", name, err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// Shared is one rin-stack process shared by every test of a test binary,
// started on the first Get. Declare it as a package-level variable of the
// test package and close it from TestMain with Main.
type Shared struct{ lazy Lazy[*Stack] }

// Get returns the shared stack, starting it on first use.
func (sh *Shared) Get(t testing.TB) *Stack {
	t.Helper()
	return sh.lazy.Get(t, func(ctx context.Context) (*Stack, error) { return Start(ctx, Options{}) })
}

// Close stops the stack if it was started.
func (sh *Shared) Close() error { return sh.lazy.Close() }

// Main runs the tests and then closes the shared stack (and removes the
// rin-stack binary built for them):
//
//	var shared stackproc.Shared
//	func TestMain(m *testing.M) { stackproc.Main(m, &shared) }
func Main(m *testing.M, sh *Shared) {
	RunMain(m, "stackproc", func() error {
		err := sh.Close()
		if buildDir != "" {
			os.RemoveAll(buildDir)
		}
		return err
	})
}
