package stacktest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/rinhq/rin/internal/stack"
)

// Shared is one stack shared by every test of a test binary, started on the
// first Get. Declare it as a package-level variable of the test package and
// close it from TestMain with Main.
type Shared struct {
	once sync.Once
	s    *stack.Stack
	err  error
}

// Get returns the shared stack, starting it on first use. A start failure is
// reported to every test that asks (skip or fail, as CheckStart decides).
func (sh *Shared) Get(t testing.TB) *stack.Stack {
	t.Helper()
	sh.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		defer cancel()
		// The stack outlives t, so it must not log through t.
		sh.s, sh.err = stack.Start(ctx, stack.Options{Logger: quietLogger()})
	})
	CheckStart(t, sh.err)
	return sh.s
}

// Close stops the stack if it was started.
func (sh *Shared) Close() error {
	var err error
	sh.once.Do(func() {}) // no start after Close
	if sh.s != nil {
		err = sh.s.Close()
	}
	return err
}

// Main runs the tests and then closes the shared stack:
//
//	var shared stacktest.Shared
//	func TestMain(m *testing.M) { stacktest.Main(m, &shared) }
func Main(m *testing.M, sh *Shared) {
	code := m.Run()
	if err := sh.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "stacktest: close shared stack:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}
