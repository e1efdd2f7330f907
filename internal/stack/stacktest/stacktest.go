// Package stacktest starts the local AWS stack (package stack) for tests.
//
// Two ways to use it:
//
//   - stacktest.Start(t) starts a stack for one test and stops it in
//     t.Cleanup. Simple and isolated, but each start costs a PostgreSQL
//     initdb (~1-3s).
//   - A package-level `var shared stacktest.Shared` plus
//     `func TestMain(m *testing.M) { stacktest.Main(m, &shared) }` shares one
//     stack per test binary; tests call shared.Get(t). It starts lazily, on the
//     first Get, so a filtered `go test -run` that needs no stack pays nothing.
//     Tests sharing a stack must use unique queue/bucket/table names (see
//     Name) and must not run fault-injecting tests (FailNextCopies,
//     SetReadOnly, ...) in parallel with others.
//
// A missing PostgreSQL skips the test with the install hint, except when the
// CI environment variable is "true": then it fails, so CI never goes green by
// skipping everything.
package stacktest

import (
	"log/slog"
	"os"
	"testing"

	"github.com/rinhq/rin/internal/stackproc"
)

// CheckStart handles the error of starting a stack or one of its parts:
// nil passes, a missing PostgreSQL skips (fails under CI=true), anything
// else fails the test.
func CheckStart(t testing.TB, err error) {
	t.Helper()
	stackproc.CheckStart(t, err)
}

// InCI reports whether the CI environment variable is "true".
func InCI() bool { return stackproc.InCI() }

// Logger returns a logger writing through t.Log at warn level (debug with
// RIN_STACK_DEBUG=1), so stack noise shows only for failing or -v tests.
func Logger(t testing.TB) *slog.Logger { return stackproc.Logger(t) }

// quietLogger is the shared stack's logger: warnings and errors to stderr.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
