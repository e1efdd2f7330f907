package redshift

import (
	"testing"

	"github.com/rinhq/rin/internal/stackproc"
)

// must fails t on an error of a call to the stack's control endpoints.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// stats returns the simulator's counters.
func stats(t testing.TB, st *stackproc.Stack) stackproc.Stats {
	t.Helper()
	s, err := st.Stats()
	must(t, err)
	return s
}

// faults returns the simulator's fault state.
func faults(t testing.TB, st *stackproc.Stack) stackproc.Faults {
	t.Helper()
	f, err := st.Faults()
	must(t, err)
	return f
}
