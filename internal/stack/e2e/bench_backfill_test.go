package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rinhq/rin/admin"
	"github.com/rinhq/rin/config"
)

// BenchmarkBackfill (issue 14, BENCHMARKS.md): `rin backfill` of 10,000
// objects that had no event, alone (its own engine on the journal) and
// beside a running daemon (which it hands the jobs to over the admin
// socket), against the event path — the same objects through SQS and
// `rin -batch`, BenchmarkImport's first case — in the same session. Only
// the backfill process's run is timed, from its start to its exit with
// every object loaded; rin's config is the defaults, as for BenchmarkImport.
// Runs only with RIN_BENCH=1; RIN_BENCH_BACKFILL sets the object count.
func BenchmarkBackfill(b *testing.B) {
	n := envInt("RIN_BENCH_BACKFILL", 10000)
	for _, mode := range []string{"alone", "beside-daemon"} {
		b.Run(fmt.Sprintf("path=backfill-%s/objects=%d", mode, n), func(b *testing.B) { runBackfillBench(b, mode, n) })
	}
	b.Run(fmt.Sprintf("path=events/objects=%d", n), func(b *testing.B) { runBench(b, benchCase{objects: n}) })
}

func runBackfillBench(b *testing.B, mode string, n int) {
	if os.Getenv("RIN_BENCH") == "" {
		b.Skip("end-to-end benchmark: run with RIN_BENCH=1 (make bench)")
	}
	var walls, cpus []float64
	var copies int64
	for i := 0; i < b.N; i++ {
		wall, cpu, c := backfillOnce(b, mode, n)
		walls, cpus, copies = append(walls, wall), append(cpus, cpu), c
	}
	wall, cpu := medianOf(walls), medianOf(cpus)
	b.ReportMetric(wall, "wall-s")
	b.ReportMetric(float64(n)/wall, "objects/s")
	b.ReportMetric(float64(copies), "copies")
	b.ReportMetric(cpu/float64(n)*1000, "cpu-s/1k-objects")
	b.Logf("backfill %s: objects=%d wall=%.2fs objects/s=%.0f copies=%d rin_cpu_s_per_1k=%.3f runs=%d load=%s",
		mode, n, wall, float64(n)/wall, copies, cpu/float64(n)*1000, len(walls), loadAvg())
}

// backfillOnce uploads n objects to a fresh bucket and times one backfill;
// it returns the wall seconds, rin's CPU seconds (the backfill process, and
// the daemon's beside it) and the COPYs.
func backfillOnce(b *testing.B, mode string, n int) (wall, cpu float64, copies int64) {
	b.StopTimer()
	defer b.StartTimer()
	e := newEnv(b)
	e.table("bench")
	uploadObjects(b, e, n)
	extra := fmt.Sprintf("batch:\n  max_age: %s\nreceive:\n  wait_time: %s\n  visibility_timeout: %s\nretry:\n  max_attempts: %d\nledger:\n  schema: %s\n",
		config.DefaultBatchMaxAge, config.DefaultWaitTime, config.DefaultVisibility, config.DefaultRetryMaxAttempts, e.schema)
	cfg := e.writeConfig("config.yaml", "  - redshift: {table: bench}\n    s3: {key_prefix: obj/}\n", extra)
	daemonCPU := func() float64 { return 0 }
	if mode == "beside-daemon" {
		d := e.start("-config", cfg)
		defer d.kill()
		sock := filepath.Join(e.dir, "rin.sock")
		e.waitFor(30*time.Second, "the daemon's admin socket", func() bool {
			c, err := admin.Dial(context.Background(), sock)
			if err == nil {
				c.Close()
			}
			return err == nil
		})
		pid := d.cmd.Process.Pid
		before := procCPU(pid, false)
		daemonCPU = func() float64 { return procCPU(pid, false) - before }
	}
	sim := e.st.Redshift()
	before := sim.Stats()
	b.StartTimer()
	start := time.Now()
	p := e.start("backfill", "-config", cfg, "s3://"+e.bucket+"/obj/")
	select {
	case <-p.done:
	case <-time.After(time.Duration(n)*20*time.Millisecond + 5*time.Minute):
		p.kill()
		b.Fatal("backfill did not finish")
	}
	wall = time.Since(start).Seconds()
	b.StopTimer()
	ps := p.cmd.ProcessState
	if ps.ExitCode() != 0 {
		out, _ := os.ReadFile(p.log)
		b.Fatalf("backfill exited %d:\n%s", ps.ExitCode(), tail(out, 4000))
	}
	cpu = (ps.UserTime() + ps.SystemTime()).Seconds() + daemonCPU()
	checkLoadedOnce(b, e, n)
	return wall, cpu, sim.Stats().Copies - before.Copies
}
