package e2e

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/internal/stack"
)

// BenchmarkParquetVsJSON (issue 13): the same rows as JSON-lines objects and
// as Parquet objects, through rin -batch end to end, timed like
// BenchmarkImport (rin's run only, objects uploaded and the queue filled
// beforehand). Small objects show the cost per object, large ones the cost
// per row. Parquet differs only in the COPY (FORMAT AS PARQUET, manifest
// entries with meta.content_length) and in what the simulator decodes.
func BenchmarkParquetVsJSON(b *testing.B) {
	if os.Getenv("RIN_BENCH") == "" {
		b.Skip("end-to-end benchmark: run with RIN_BENCH=1 (make bench)")
	}
	for _, size := range []struct{ objects, rows int }{{5000, 10}, {500, 1000}} {
		perSec := map[string]float64{}
		for _, format := range []string{"json", "parquet"} {
			name := fmt.Sprintf("objects=%d/rows=%d/format=%s", size.objects, size.rows, format)
			b.Run(name, func(b *testing.B) {
				var walls []float64
				var last formatRun
				for i := 0; i < b.N; i++ {
					last = formatOnce(b, format, size.objects, size.rows)
					walls = append(walls, last.wall)
				}
				wall := medianOf(walls)
				perSec[format] = float64(size.objects) / wall
				b.ReportMetric(wall, "wall-s")
				b.ReportMetric(float64(size.objects)/wall, "objects/s")
				b.ReportMetric(float64(size.objects*size.rows)/wall, "rows/s")
				b.ReportMetric(float64(last.copies), "copies")
				b.ReportMetric(float64(last.bytes)/float64(size.objects), "bytes/object")
				b.ReportMetric(last.use.rin/float64(size.objects)*1000, "rin-cpu-s/1k-objects")
				b.ReportMetric(last.use.test, "testproc-cpu-s")
				b.ReportMetric(last.use.pg, "pg-cpu-s")
				b.Logf("%s: wall=%.2fs objects/s=%.0f rows/s=%.0f copies=%d bytes/object=%d %s load=%s",
					name, wall, float64(size.objects)/wall, float64(size.objects*size.rows)/wall, last.copies,
					last.bytes/int64(size.objects), last.use, loadAvg())
				if format == "parquet" && perSec["json"] > 0 {
					b.ReportMetric(perSec["parquet"]/perSec["json"], "x-json")
					b.Logf("%s: parquet/json objects/s = %.2f", name, perSec["parquet"]/perSec["json"])
				}
			})
		}
	}
}

// formatRun is one timed run.
type formatRun struct {
	wall   float64
	copies int64
	bytes  int64 // uploaded
	use    cpuUse
}

// formatOnce loads objects of rows rows in format through a fresh queue,
// bucket and table, and times rin's run.
func formatOnce(b *testing.B, format string, objects, rows int) formatRun {
	b.StopTimer()
	defer b.StartTimer()
	e := newEnv(b)
	e.table("bench")
	bodies, size := uploadFormat(b, e, format, objects, rows)
	if err := sendConcurrently(context.Background(), e.st, e.queueURL, bodies); err != nil {
		b.Fatal(err)
	}
	target := "  - redshift: {table: bench}\n    s3: {key_prefix: obj/}\n"
	if format == "parquet" {
		target += "    sql_option: \"FORMAT AS PARQUET\"\n"
	}
	extra := fmt.Sprintf("batch:\n  max_files: %d\n  max_age: %s\nreceive:\n  wait_time: %s\n  visibility_timeout: %s\nledger:\n  schema: %s\n",
		config.DefaultBatchMaxFiles, config.DefaultBatchMaxAge, config.DefaultWaitTime, config.DefaultVisibility, e.schema)
	cfg := e.writeConfig("config.yaml", target, extra)

	sim := e.st.Redshift()
	before := sim.Stats()
	cpu0 := takeCPU(e.st)
	b.StartTimer()
	start := time.Now()
	p := e.start("-config", cfg, "-batch")
	select {
	case <-p.done:
	case <-time.After(time.Duration(objects*rows)*50*time.Microsecond + 5*time.Minute):
		p.kill()
		b.Fatal("rin did not finish")
	}
	wall := time.Since(start).Seconds()
	b.StopTimer()
	ps := p.cmd.ProcessState
	if code := ps.ExitCode(); code != 0 {
		out, _ := os.ReadFile(p.log)
		b.Fatalf("rin exited %d:\n%s", code, tail(out, 4000))
	}
	use := cpuUsed(takeCPU(e.st).sub(cpu0), (ps.UserTime() + ps.SystemTime()).Seconds())
	want := map[string]int{}
	for i := 0; i < objects; i++ {
		want[benchKey(format, i)] = rows
	}
	e.assertRows(e.schema, "bench", want)
	if !e.queueEmpty() {
		b.Fatal("messages left on the queue")
	}
	return formatRun{wall: wall, copies: sim.Stats().Copies - before.Copies, bytes: size, use: use}
}

func benchKey(format string, i int) string {
	if format == "parquet" {
		return fmt.Sprintf("obj/%06d.parquet", i)
	}
	return fmt.Sprintf("obj/%06d.json", i)
}

// benchPQRow is object's row as Parquet: the same columns and values.
type benchPQRow struct {
	Src string `parquet:"src"`
	N   int32  `parquet:"n"`
	Msg string `parquet:"msg"`
}

// uploadFormat puts n objects (16 concurrent PUTs) and returns their S3
// events and the bytes uploaded.
func uploadFormat(b *testing.B, e *env, format string, n, rows int) ([]string, int64) {
	bodies := make([]string, n)
	var total int64
	var mu sync.Mutex
	var firstErr error
	idx := make(chan int)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range idx {
				key := benchKey(format, i)
				body, err := object(key, rows), error(nil)
				if format == "parquet" {
					rs := make([]benchPQRow, rows)
					for j := range rs {
						rs[j] = benchPQRow{Src: key, N: int32(j), Msg: fmt.Sprintf("row %d of %s", j, key)}
					}
					body, err = parquetBytes(rs)
				}
				var etag, version string
				if err == nil {
					etag, version, err = e.st.S3().PutObject(context.Background(), e.bucket, key, body)
				}
				mu.Lock()
				total += int64(len(body))
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				bodies[i] = stack.S3EventBody(stack.ObjectEvent{Bucket: e.bucket, Key: key, Size: int64(len(body)), ETag: etag, VersionID: version, Time: time.Now()})
			}
		})
	}
	for i := 0; i < n; i++ {
		idx <- i
	}
	close(idx)
	wg.Wait()
	if firstErr != nil {
		b.Fatalf("upload: %v", firstErr)
	}
	return bodies, total
}
