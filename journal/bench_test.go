package journal

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
)

// BenchmarkTransitions measures durable (fsync'd) job transitions per second
// with concurrent writers, as the engine makes them: each op moves one job
// one state forward in its own Update call, group-committed by bbolt Batch.
func BenchmarkTransitions(b *testing.B) {
	for _, writers := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			j, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer j.Close()
			b.ResetTimer()
			var wg sync.WaitGroup
			per := b.N/writers + 1
			for w := 0; w < writers; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					for i := 0; i < per; i++ {
						job := testJob(fmt.Sprintf("w%d-%d", w, i), Received)
						if err := j.Update(func(tx *Tx) error { return tx.PutJob(job) }); err != nil {
							b.Error(err)
							return
						}
					}
				}(w)
			}
			wg.Wait()
			b.ReportMetric(float64(per*writers)/b.Elapsed().Seconds(), "transitions/s")
		})
	}
}

// BenchmarkBatchTransition measures one Update moving a batch of 100 jobs,
// as the engine does per COPY batch.
func BenchmarkBatchTransition(b *testing.B) {
	j, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	jobs := make([]Job, 100)
	for i := range jobs {
		jobs[i] = testJob(fmt.Sprintf("j%d", i), Received)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := States[i%3]
		if err := j.Update(func(tx *Tx) error {
			for _, job := range jobs {
				job.State = s
				if err := tx.PutJob(job); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(jobs))/b.Elapsed().Seconds(), "transitions/s")
}
