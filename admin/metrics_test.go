package admin

import (
	"context"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/rinhq/rin/fsm"
)

// sampleLine is a sample line of the text format: name{labels} value.
var sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? (-?[0-9.eE+-]+|\+Inf|-Inf|NaN)$`)

func scrape(t *testing.T, sock string) string {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}}
	resp, err := hc.Get("http://rin/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("metrics: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestMetrics(t *testing.T) {
	j := openJournal(t)
	fill(t, j)
	reject(t, j)
	_, _, sock := startServer(t, j, newEngine(j))
	text := scrape(t, sock)
	families := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if strings.HasPrefix(line, "# TYPE ") {
			families[strings.Fields(line)[2]] = true
			continue
		}
		if strings.HasPrefix(line, "# HELP ") {
			continue
		}
		if !sampleLine.MatchString(line) {
			t.Errorf("not a sample line: %q", line)
		}
	}
	for _, want := range []string{
		`rin_jobs{state="failed",target="targets[1]"} 2`,
		`rin_jobs{state="acked",target="targets[0]"} 2`,
		`rin_jobs{state="copying",target="targets[0]"} 0`,
		`rin_copy_duration_seconds_bucket{le="0.05"} 0`,
		`rin_copy_duration_seconds_bucket{le="+Inf"} 0`,
		`rin_copy_duration_seconds_count 0`,
		`rin_load_latency_seconds_bucket{target="targets[0]",le="1"} 0`,
		`rin_load_latency_seconds_sum{target="targets[1]"} 0`,
		`rin_load_latency_seconds_count{target="targets[0]"} 0`,
		`rin_receive_errors_total 0`,
		`rin_delete_errors_total 0`,
		`rin_messages_received_total 0`,
		`rin_rows_loaded_total{target="targets[0]"} 0`,
		`rin_jobs_copied_total{target="targets[1]"} 0`,
		`rin_jobs_failed_total{target="targets[1]"} 0`,
		`rin_rows_skipped_total{target="targets[0]"} 0`,
		`rin_build_info{version="test"} 1`,
		`rin_rejected_messages 3`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("missing %s", want)
		}
	}
	for _, f := range []string{"rin_jobs", "rin_copy_duration_seconds", "rin_load_latency_seconds", "rin_held_scopes", "rin_oldest_pending_job_age_seconds",
		"rin_rejected_messages", "go_goroutines", "process_resident_memory_bytes"} {
		if !families[f] {
			t.Errorf("no TYPE line for %s", f)
		}
	}
	if t.Failed() {
		t.Log(text)
	}
}

// The engine's per-target counts reach /metrics with their target label.
func TestMetricsPerTarget(t *testing.T) {
	j := openJournal(t)
	lat := fsm.Histogram{Bounds: []float64{1, 10}, Counts: []uint64{2, 1, 1}, Sum: 40, Count: 4}
	eng := heldEngine{stats: fsm.Stats{Targets: map[string]fsm.TargetStats{
		"targets[2]": {Copied: 5, Rows: 50, RowsSkipped: 3, Failed: 1, Superseded: 7, Removed: 2, Latency: lat},
	}}}
	_, _, sock := startServer(t, j, eng)
	text := scrape(t, sock)
	for _, want := range []string{
		`rin_jobs_copied_total{target="targets[2]"} 5`,
		`rin_rows_loaded_total{target="targets[2]"} 50`,
		`rin_rows_skipped_total{target="targets[2]"} 3`,
		`rin_jobs_failed_total{target="targets[2]"} 1`,
		`rin_jobs_superseded_total{target="targets[2]"} 7`,
		`rin_jobs_removed_total{target="targets[2]"} 2`,
		`rin_load_latency_seconds_bucket{target="targets[2]",le="1"} 2`,
		`rin_load_latency_seconds_bucket{target="targets[2]",le="10"} 3`,
		`rin_load_latency_seconds_bucket{target="targets[2]",le="+Inf"} 4`,
		`rin_load_latency_seconds_sum{target="targets[2]"} 40`,
		`rin_load_latency_seconds_count{target="targets[2]"} 4`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("missing %s", want)
		}
	}
	if t.Failed() {
		t.Log(text)
	}
}
