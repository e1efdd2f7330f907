package fsm

import (
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"
)

// BenchmarkPlanWaitingBatches is the planner's cost while batches fill: every
// table holds a batch that is neither full nor old enough to start, which is
// the state between receives during a burst.
func BenchmarkPlanWaitingBatches(b *testing.B) {
	for _, tables := range []int{4, 64} {
		b.Run(fmt.Sprintf("tables=%d", tables), func(b *testing.B) {
			e := New(nil, nil, nil, nil, Options{
				Batch:  BatchOptions{MaxFiles: 1000, MaxAge: time.Hour, Concurrency: 4},
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			})
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
