package stacktest

import (
	"context"
	"testing"

	"github.com/rinhq/rin/internal/stack"
	"github.com/rinhq/rin/internal/stackproc"
)

// Shared is one stack shared by every test of a test binary, started on the
// first Get. Declare it as a package-level variable of the test package and
// close it from TestMain with Main.
type Shared struct{ lazy stackproc.Lazy[*stack.Stack] }

// Get returns the shared stack, starting it on first use. A start failure is
// reported to every test that asks (skip or fail, as CheckStart decides).
func (sh *Shared) Get(t testing.TB) *stack.Stack {
	t.Helper()
	return sh.lazy.Get(t, func(ctx context.Context) (*stack.Stack, error) {
		// The stack outlives t, so it must not log through t.
		return stack.Start(ctx, stack.Options{Logger: quietLogger()})
	})
}

// Close stops the stack if it was started.
func (sh *Shared) Close() error { return sh.lazy.Close() }

// Main runs the tests and then closes the shared stack:
//
//	var shared stacktest.Shared
//	func TestMain(m *testing.M) { stacktest.Main(m, &shared) }
func Main(m *testing.M, sh *Shared) { stackproc.RunMain(m, "stacktest", sh.Close) }
