package fsm

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkPlanWaitingBatches is the planner's cost while batches fill: every
// table holds a batch that is neither full nor old enough to start, which is
// the state between receives during a burst.
func BenchmarkPlanWaitingBatches(b *testing.B) {
	for _, tables := range []int{4, 64} {
		b.Run(fmt.Sprintf("tables=%d", tables), func(b *testing.B) {
			e := planner(b)
			e.opts.Batch.MaxFiles = 1000 // rin's default
			e.receiving = 2
			now := time.Now()
			for k := range tables {
				ready(e, fmt.Sprintf("t%d", k), 900, now)
			}
			b.ResetTimer()
			for range b.N {
				if bs, _ := e.plan(now); len(bs) != 0 {
					b.Fatalf("planned %d batches", len(bs))
				}
			}
		})
	}
}
