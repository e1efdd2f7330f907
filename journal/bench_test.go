package journal

import (
	"fmt"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BenchmarkTransitions measures durable (fsync'd) job transitions per second
// with concurrent writers each moving one job per Update call: the worst
// case, where only group commit (commit.go) puts several transitions in one
// fsync.
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

// BenchmarkEngineCommits commits as the engine does, so its transitions/s is
// the figure that bounds rin: each op is one job's whole life, four durable
// transitions. Jobs are admitted ten per Update with their SQS message (one
// receive) by several receivers at once; they move to copying, then copied,
// in one Update per COPY batch; and to acked, with their messages deleted, in
// one Update per ack pass. Loads run concurrently with admission, as in rin.
func BenchmarkEngineCommits(b *testing.B) {
	for _, batch := range []int{100, 1000} {
		b.Run(fmt.Sprintf("receivers=4/batch=%d", batch), func(b *testing.B) {
			j, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer j.Close()
			jobs := make([]Job, b.N)
			for i := range jobs {
				jobs[i] = benchJob(i)
			}
			admitted := make(chan []Job, 64)
			b.ResetTimer()
			start := time.Now()
			cpu0 := processCPU()

			// Receivers: ten jobs and one message per Update.
			const receivers = 4
			var recv sync.WaitGroup
			for r := 0; r < receivers; r++ {
				recv.Add(1)
				go func(r int) {
					defer recv.Done()
					for lo := r * 10; lo < len(jobs); lo += receivers * 10 {
						group := jobs[lo:min(lo+10, len(jobs))]
						ids := make([]string, len(group))
						for i, jb := range group {
							ids[i] = jb.ID
						}
						if err := j.Update(func(tx *Tx) error {
							for _, jb := range group {
								if err := tx.PutJob(jb); err != nil {
									return err
								}
							}
							return tx.PutMessage(Message{ID: "m-" + group[0].ID, ReceiptHandle: "h", Jobs: ids})
						}); err != nil {
							b.Error(err)
							return
						}
						admitted <- group
					}
				}(r)
			}
			go func() { recv.Wait(); close(admitted) }()

			// Loads: gather up to batch jobs, then copying, copied and
			// acked (with the message deletes), each in one Update.
			var loads sync.WaitGroup
			move := func(set []Job, s State, msgs bool) {
				if err := j.Update(func(tx *Tx) error {
					for _, jb := range set {
						jb.State = s
						if err := tx.PutJob(jb); err != nil {
							return err
						}
						if msgs && jb.Key[len(jb.Key)-1] == '0' {
							if err := tx.DeleteMessage("m-" + jb.ID); err != nil {
								return err
							}
						}
					}
					return nil
				}); err != nil {
					b.Error(err)
				}
			}
			var pending []Job
			flush := func() {
				set := pending
				pending = nil
				loads.Add(1)
				go func() {
					defer loads.Done()
					move(set, Copying, false)
					move(set, Copied, false)
					move(set, Acked, true)
				}()
			}
			for group := range admitted {
				pending = append(pending, group...)
				if len(pending) >= batch {
					flush()
				}
			}
			if len(pending) > 0 {
				flush()
			}
			loads.Wait()
			b.ReportMetric(float64(4*b.N)/time.Since(start).Seconds(), "transitions/s")
			// CPU per job life, the journal's share of rin's CPU per object.
			b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/job")
		})
	}
}

// processCPU is this process's user+system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchJob is a job as rin journals it: a hashed id, a realistic size.
func benchJob(i int) Job {
	key := fmt.Sprintf("logs/app/2026/11/25/host-%04d/%08d.json.gz", i%100, i)
	return Job{
		ID: JobID("postgres://rin@redshift.example.com:5439/dev", "public", "access_log", "my-log-bucket", key, ""), State: Received,
		Target: "targets[0]", Endpoint: "postgres://rin@redshift.example.com:5439/dev", Schema: "public", Table: "access_log",
		SQLOption: "JSON 'auto' GZIP", Region: "us-east-1", Manifest: true,
		Bucket: "my-log-bucket", Key: key, Size: 4096, EventTime: time.Now(),
	}
}
