package redshift

import (
	"testing"
	"time"

	"github.com/rinhq/rin/fsm"
)

// The engine sees the guard waits through the wrappers rin builds
// (Regional over Dispatch), each Copier once.
func TestGuardStatsThroughWrappers(t *testing.T) {
	c := New(Options{})
	defer c.Close()
	c.guard.observe(300*time.Millisecond, false)
	c.guard.observe(2*time.Second, true)
	var r fsm.Copier = Regional{Next: Dispatch{"a": c, "b": c}}
	g := r.(fsm.GuardReporter).GuardStats()
	if g.Wait.Count != 2 || g.Timeouts != 1 || g.Wait.Sum < 2.29 || g.Wait.Sum > 2.31 {
		t.Fatalf("guard stats %+v; want 2 waits (2.3s), 1 timeout", g)
	}
	if cum := g.Wait.Cumulative(); cum[0.5] != 1 || cum[2.5] != 2 {
		t.Fatalf("buckets %v", cum)
	}
}
