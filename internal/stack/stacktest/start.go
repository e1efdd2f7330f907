package stacktest

import (
	"context"
	"testing"
	"time"

	"github.com/rinhq/rin/internal/stack"
)

// startTimeout bounds a stack start, which may include building goaws once.
const startTimeout = 5 * time.Minute

// Start starts a stack for t and closes it when t ends.
func Start(t testing.TB) *stack.Stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	s, err := stack.Start(ctx, stack.Options{Logger: Logger(t)})
	CheckStart(t, err)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close stack: %v", err)
		}
	})
	return s
}
