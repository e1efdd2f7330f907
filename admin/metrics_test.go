package admin

import (
	"context"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
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
		`rin_lag_seconds_sum 0`,
		`rin_lag_seconds_count 0`,
		`rin_receive_errors_total 0`,
		`rin_delete_errors_total 0`,
		`rin_messages_received_total 0`,
		`rin_rows_loaded_total 0`,
		`rin_jobs_copied_total 0`,
		`rin_jobs_failed_total 0`,
		`rin_build_info{version="test"} 1`,
		`rin_rejected_messages 3`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("missing %s", want)
		}
	}
	for _, f := range []string{"rin_jobs", "rin_copy_duration_seconds", "rin_lag_seconds", "rin_breaker_open", "rin_oldest_pending_job_age_seconds", "rin_rejected_messages"} {
		if !families[f] {
			t.Errorf("no TYPE line for %s", f)
		}
	}
	if t.Failed() {
		t.Log(text)
	}
}

func TestPromEscaping(t *testing.T) {
	var b strings.Builder
	p := newPromWriter(&b)
	p.sample("m", 1.5, "endpoint", "postgres://u@h:5439/db?x=\"a\\b\"\n")
	p.flush()
	want := `m{endpoint="postgres://u@h:5439/db?x=\"a\\b\"\n"} 1.5` + "\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
	if !sampleLine.MatchString(strings.TrimSuffix(b.String(), "\n")) {
		t.Error("escaped line does not parse")
	}
}
