package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/internal/stack"
)

// The end-to-end benchmarks of issue 6 (`make bench`, BENCHMARKS.md): the
// real rin binary in -batch mode against the local stack, with the queue
// filled and the objects uploaded before rin starts, so that only rin's run
// is timed — from its start until it exits with the queue drained and no job
// pending. They run only with RIN_BENCH=1 (TestMain then builds rin without
// -race); otherwise they skip, so `make test` stays fast.
//
// Knobs (environment):
//
//	RIN_BENCH_SCALE     object counts of the scale series (default 1000,10000)
//	RIN_BENCH_PROFILE   directory for rin's CPU and heap profile of each case
//	RIN_BENCH_RECEIVERS receive.receivers for rin and the SQS ceiling (default: rin's)

// benchRows is the number of rows per object.
const benchRows = 10

// BenchmarkImport: 10,000 objects into one table, with no added COPY latency
// and with 200 ms per COPY (closer to a real cluster), and, for the ratio,
// one COPY per object (max_files: 1) at 200 ms on fewer objects.
func BenchmarkImport(b *testing.B) {
	for _, c := range []benchCase{
		{objects: 10000},
		{objects: 10000, latency: 200 * time.Millisecond},
		{objects: 400, latency: 200 * time.Millisecond, maxFiles: 1},
	} {
		b.Run(c.name(), func(b *testing.B) { runBench(b, c) })
	}
}

// BenchmarkScale: how time, CPU and memory grow with the number of objects.
func BenchmarkScale(b *testing.B) {
	for _, n := range benchScale(b) {
		c := benchCase{objects: n}
		b.Run(c.name(), func(b *testing.B) { runBench(b, c) })
	}
}

type benchCase struct {
	objects  int
	latency  time.Duration
	maxFiles int // 0: rin's default
}

func (c benchCase) name() string {
	s := fmt.Sprintf("objects=%d/latency=%s", c.objects, c.latency)
	if c.maxFiles > 0 {
		s += fmt.Sprintf("/max_files=%d", c.maxFiles)
	}
	return s
}

func benchScale(b *testing.B) []int {
	spec := os.Getenv("RIN_BENCH_SCALE")
	if spec == "" {
		spec = "1000,10000"
	}
	var out []int
	for _, f := range strings.Split(spec, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			b.Fatalf("RIN_BENCH_SCALE=%q: %q is not a positive count", spec, f)
		}
		out = append(out, n)
	}
	return out
}

// benchResult is one run of a case.
type benchResult struct {
	loaded  int     // objects loaded
	wall    float64 // seconds
	maxRSS  int64   // bytes
	copies  int64
	use     cpuUse // CPU seconds used during rin's run, by process; rin's from its rusage
	ceiling ceilingResult
}

func runBench(b *testing.B, c benchCase) {
	if os.Getenv("RIN_BENCH") == "" {
		b.Skip("end-to-end benchmark: run with RIN_BENCH=1 (make bench)")
	}
	receivers := envInt("RIN_BENCH_RECEIVERS", config.DefaultReceivers)
	var runs []benchResult
	for i := 0; i < b.N; i++ {
		runs = append(runs, benchOnce(b, c, receivers, i))
	}
	r := median(runs)
	perSec := float64(r.loaded) / r.wall
	cpuPer1k := r.use.rin / float64(c.objects) * 1000
	goawsPer1k := r.use.goaws / float64(c.objects) * 1000
	ceilGoawsPer1k := r.ceiling.use.goaws / float64(r.ceiling.msgs) * 1000
	b.ReportMetric(r.wall, "wall-s")
	b.ReportMetric(perSec, "objects/s")
	b.ReportMetric(float64(r.copies), "copies")
	b.ReportMetric(cpuPer1k, "cpu-s/1k-objects")
	b.ReportMetric(float64(r.maxRSS)/(1<<20), "peak-rss-MiB")
	b.ReportMetric(r.ceiling.perSec, "sqs-ceiling-objects/s")
	b.ReportMetric(r.use.goaws, "goaws-cpu-s")
	b.ReportMetric(r.use.pg, "pg-cpu-s")
	b.ReportMetric(r.use.test, "testproc-cpu-s")
	b.ReportMetric(r.use.idle, "idle-cpu-s")
	b.ReportMetric(r.use.other, "other-cpu-s")
	b.ReportMetric(goawsPer1k, "goaws-cpu-s/1k-objects")
	b.ReportMetric(ceilGoawsPer1k, "ceiling-goaws-cpu-s/1k-objects")
	b.Logf("%s: objects=%d rows=%d wall=%.2fs objects/s=%.0f copies=%d rin_cpu_s_per_1k=%.3f rin_peak_rss=%.1fMiB sqs_ceiling_objects/s=%.0f (%.2fx of ceiling) runs=%d load=%s",
		c.name(), c.objects, c.objects*benchRows, r.wall, perSec, r.copies, cpuPer1k, float64(r.maxRSS)/(1<<20),
		r.ceiling.perSec, perSec/r.ceiling.perSec, len(runs), loadAvg())
	b.Logf("%s: during rin's run %s (of %.2f core-s), goaws_cpu_s_per_1k=%.3f; sqs ceiling alone: wall=%.2fs goaws_cpu_s_per_1k=%.3f client_cpu_s=%.2f idle=%.2f other=%.2f",
		c.name(), r.use, r.wall*float64(runtime.NumCPU()), goawsPer1k,
		r.ceiling.wall, ceilGoawsPer1k, r.ceiling.use.test, r.ceiling.use.idle, r.ceiling.use.other)
}

// median takes each figure's median over the runs on its own.
func median(runs []benchResult) benchResult {
	pick := func(f func(benchResult) float64) float64 {
		v := make([]float64, len(runs))
		for i, r := range runs {
			v[i] = f(r)
		}
		return medianOf(v)
	}
	use := func(f func(benchResult) cpuUse) cpuUse {
		var m cpuUse
		for i, p := range m.fields() {
			*p = pick(func(r benchResult) float64 { u := f(r); return *u.fields()[i] })
		}
		return m
	}
	return benchResult{
		loaded: int(pick(func(r benchResult) float64 { return float64(r.loaded) })),
		wall:   pick(func(r benchResult) float64 { return r.wall }),
		maxRSS: int64(pick(func(r benchResult) float64 { return float64(r.maxRSS) })),
		copies: int64(pick(func(r benchResult) float64 { return float64(r.copies) })),
		use:    use(func(r benchResult) cpuUse { return r.use }),
		ceiling: ceilingResult{
			perSec: pick(func(r benchResult) float64 { return r.ceiling.perSec }),
			msgs:   int(pick(func(r benchResult) float64 { return float64(r.ceiling.msgs) })),
			wall:   pick(func(r benchResult) float64 { return r.ceiling.wall }),
			use:    use(func(r benchResult) cpuUse { return r.ceiling.use }),
		},
	}
}

// medianOf is the median of v (of an even count, the mean of the two in
// the middle); v is sorted in place.
func medianOf(v []float64) float64 {
	sort.Float64s(v)
	n := len(v)
	if n%2 == 0 {
		return (v[n/2-1] + v[n/2]) / 2 // before session 7, the upper one: v[n/2]
	}
	return v[n/2]
}

// benchOnce prepares a fresh queue, bucket and table, measures the SQS
// ceiling, and times one rin -batch run.
func benchOnce(b *testing.B, c benchCase, receivers, run int) benchResult {
	b.StopTimer()
	defer b.StartTimer()
	e := newEnv(b)
	st := e.st
	e.table("bench")
	ctx := context.Background()

	bodies := uploadObjects(b, e, c.objects)
	ceiling := sqsCeiling(b, st, bodies, receivers)
	if err := sendConcurrently(ctx, st, e.queueURL, bodies); err != nil {
		b.Fatal(err)
	}

	maxFiles := c.maxFiles
	if maxFiles == 0 {
		maxFiles = config.DefaultBatchMaxFiles
	}
	// rin's defaults, but for max_files and the receivers under test.
	extra := fmt.Sprintf("batch:\n  max_files: %d\n  max_age: %s\nreceive:\n  receivers: %d\n  wait_time: %s\n  visibility_timeout: %s\nretry:\n  max_attempts: %d\nledger:\n  schema: %s\n",
		maxFiles, config.DefaultBatchMaxAge, receivers, config.DefaultWaitTime, config.DefaultVisibility, config.DefaultRetryMaxAttempts, e.schema)
	if ow := os.Getenv("RIN_BENCH_OVERWRITES"); ow != "" { // the HEAD before each COPY costs; compare load with unchecked
		extra += "overwrites: " + ow + "\n"
	}
	cfg := e.writeConfig("config.yaml", "  - redshift: {table: bench}\n    s3: {key_prefix: obj/}\n", extra)

	sim := st.Redshift()
	sim.SetCopyLatency(c.latency)
	defer sim.SetCopyLatency(0)
	before := sim.Stats()

	var env []string
	stopProfile := func() {}
	if dir := os.Getenv("RIN_BENCH_PROFILE"); dir != "" {
		base := filepath.Join(dir, strings.NewReplacer("/", "_", "=", "").Replace(c.name())+fmt.Sprintf("-%d", run))
		env = append(env, "RIN_CPUPROFILE="+base+".cpu.pprof", "RIN_MEMPROFILE="+base+".heap.pprof")
		// This process's profile over rin's run shows what the simulator
		// and gofakes3 cost (-cpuprofile would also cover uploads and the
		// SQS ceiling).
		stopProfile = profileSelf(b, base+".testproc.cpu.pprof")
	}
	timeout := time.Duration(c.objects)*20*time.Millisecond + 5*time.Minute
	cpu0 := takeCPU(st)
	b.StartTimer()
	start := time.Now()
	p := e.startEnv(env, "-config", cfg, "-batch")
	var peak int64
	poll := time.NewTicker(20 * time.Millisecond)
	defer poll.Stop()
	deadline := time.After(timeout)
wait:
	for {
		select {
		case <-p.done:
			break wait
		case <-poll.C:
			peak = max(peak, peakRSS(p.cmd.Process.Pid))
		case <-deadline:
			p.kill()
			b.Fatalf("rin did not finish within %s", timeout)
		}
	}
	wall := time.Since(start).Seconds()
	b.StopTimer()
	stopProfile()
	ps := p.cmd.ProcessState
	use := cpuUsed(takeCPU(st).sub(cpu0), (ps.UserTime() + ps.SystemTime()).Seconds())
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		out, _ := os.ReadFile(p.log)
		b.Fatalf("rin exited %d:\n%s", code, tail(out, 4000))
	}
	after := sim.Stats()

	loaded := checkLoadedOnce(b, e, c.objects)
	b.Logf("run %d: wall=%.2fs %s | sqs ceiling: messages=%d wall=%.2fs %s",
		run, wall, use, ceiling.msgs, ceiling.wall, ceiling.use)
	return benchResult{
		loaded:  loaded,
		wall:    wall,
		maxRSS:  peak,
		copies:  after.Copies - before.Copies,
		use:     use,
		ceiling: ceiling,
	}
}

// uploadObjects puts n objects of benchRows rows into the test's bucket,
// concurrently, and returns one S3 event body per object.
func uploadObjects(b *testing.B, e *env, n int) []string {
	bodies := make([]string, n)
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	idx := make(chan int)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range idx {
				key := fmt.Sprintf("obj/%06d.json", i)
				body := object(key, benchRows)
				etag, version, err := e.st.S3().PutObject(ctx, e.bucket, key, body)
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					continue
				}
				bodies[i] = stack.S3EventBody(stack.ObjectEvent{Bucket: e.bucket, Key: key, Size: int64(len(body)), ETag: etag, VersionID: version, Time: time.Now()})
			}
		}()
	}
	for i := 0; i < n; i++ {
		idx <- i
	}
	close(idx)
	wg.Wait()
	if firstErr != nil {
		b.Fatalf("upload: %v", firstErr)
	}
	return bodies
}

// sendConcurrently sends bodies with SendMessageBatch (10 per call) from
// several goroutines.
func sendConcurrently(ctx context.Context, st *stack.Stack, url string, bodies []string) error {
	const workers = 8
	chunk := (len(bodies)/workers/10 + 1) * 10
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := 0; w < workers; w++ {
		lo := min(w*chunk, len(bodies))
		hi := min(lo+chunk, len(bodies))
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = st.SQS().SendBatch(ctx, url, bodies[lo:hi])
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// checkLoadedOnce fails the run unless every one of objects holds exactly
// benchRows rows in the bench table (each loaded once) and nothing is left
// on the queue: a run counts only then. It returns the objects loaded.
func checkLoadedOnce(b *testing.B, e *env, objects int) int {
	loaded := 0
	for src, n := range e.rowsBySource("bench") {
		if n != benchRows {
			b.Fatalf("%s loaded %d times over (%d rows, want %d)", src, n/benchRows, n, benchRows)
		}
		loaded++
	}
	left, err := e.st.SQS().ApproximateCount(context.Background(), e.queueURL)
	if err != nil {
		b.Fatal(err)
	}
	if loaded != objects || left != 0 {
		b.Fatalf("%d of %d objects loaded, %d messages left on the queue", loaded, objects, left)
	}
	return loaded
}

// profileSelf starts a CPU profile of this process into path and returns
// the function that stops it.
func profileSelf(b *testing.B, path string) func() {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatalf("%v (is -cpuprofile set too?)", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

// peakRSS reads the high-water mark of a running process's resident set
// (VmHWM), polled while rin runs. The child's rusage Maxrss cannot serve: on
// Linux it includes the parent's resident set at fork, and this test
// process holds the S3 emulator's objects.
func peakRSS(pid int) int64 { return procStatus(pid, "VmHWM") }

// procStatus reads a size in bytes (a "kB" field) from /proc/<pid>/status; 0
// if the process or the field is gone.
func procStatus(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// loadAvg is the 1-minute load average, printed beside each result: the
// machine is shared.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}
