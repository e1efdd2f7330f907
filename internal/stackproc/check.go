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

// Shared is one rin-stack process shared by every test of a test binary,
// started on the first Get. Declare it as a package-level variable of the
// test package and close it from TestMain with Main.
type Shared struct {
	once sync.Once
	s    *Stack
	err  error
}

// Get returns the shared stack, starting it on first use. A start failure is
// reported to every test that asks (skip or fail, as CheckStart decides).
func (sh *Shared) Get(t testing.TB) *Stack {
	t.Helper()
	sh.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		defer cancel()
		sh.s, sh.err = Start(ctx, Options{})
	})
	CheckStart(t, sh.err)
	return sh.s
}

// Close stops the stack if it was started.
func (sh *Shared) Close() error {
	sh.once.Do(func() {}) // no start after Close
	if sh.s != nil {
		return sh.s.Close()
	}
	return nil
}

// Main runs the tests and then closes the shared stack:
//
//	var shared stackproc.Shared
//	func TestMain(m *testing.M) { stackproc.Main(m, &shared) }
func Main(m *testing.M, sh *Shared) {
	code := m.Run()
	if err := sh.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "stackproc: close shared stack:", err)
		if code == 0 {
			code = 1
		}
	}
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// StartForTest starts a stack of its own for t (opts as for Start) and
// stops it when t ends.
func StartForTest(t testing.TB, opts Options) *Stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	s, err := Start(ctx, opts)
	CheckStart(t, err)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close stack: %v", err)
		}
	})
	return s
}
