package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rinhq/rin/internal/stack"
	"github.com/rinhq/rin/journal"
)

// rinJournal builds cmd/rin-journal once per test binary, on first use, so
// that tests which never run it do not pay for the build.
var rinJournal = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "rin-e2e-journal-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "rin-journal")
	out, err := buildInRin("-o", bin, "./cmd/rin-journal")
	if err != nil {
		return "", errors.New("build rin-journal: " + err.Error() + "\n" + string(out))
	}
	return bin, nil
})

// journalCmd runs rin-journal in the test's directory and returns its
// stdout, stderr and exit code.
func (e *env) journalCmd(args ...string) (string, string, int) {
	e.t.Helper()
	bin, err := rinJournal()
	if err != nil {
		e.t.Fatal(err)
	}
	var out, errb strings.Builder
	cmd := exec.Command(bin, args...)
	cmd.Dir = e.dir
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		e.t.Fatalf("rin-journal %v: %v", args, err)
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

// mustJournal runs rin-journal and fails the test on a non-zero exit.
func (e *env) mustJournal(args ...string) string {
	e.t.Helper()
	out, stderr, code := e.journalCmd(args...)
	if code != 0 {
		e.t.Fatalf("rin-journal %v exited %d: %s", args, code, stderr)
	}
	return out
}

// scrapeMetrics reads /metrics from rin's admin socket.
func scrapeMetrics(t *testing.T, sock string) string {
	t.Helper()
	m, err := getMetrics(sock)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	return m
}

// getMetrics is scrapeMetrics for callers that poll (rin may not listen yet).
func getMetrics(sock string) (string, error) {
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Get("http://rin/metrics")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// TestRequeueAfterBadObjectFixed: a job fails on an object with a row that
// does not fit its table and is parked (an object's own fault; a missing
// table would only hold the table); an operator, seeing it with
// rin-journal while rin runs, re-uploads the object fixed (a new version,
// with its own S3 event) and requeues the failed job through rin's admin
// socket: whichever of the two comes first loads the fixed bytes, the
// other finds them loaded (or is superseded), so the key loads once, fixed.
// Every rin-journal command runs live first, then offline once rin has
// stopped.
func TestRequeueAfterBadObjectFixed(t *testing.T) {
	if testing.Short() {
		t.Skip("slow end-to-end test: skipped with -short (make test-short); make test runs it")
	}
	e := newEnv(t)
	e.table("foo")
	e.table("late")
	cfg := e.writeConfig("config.yaml", fooTarget+"  - redshift: {table: late}\n    s3: {key_prefix: late/}\n", "")
	sock := filepath.Join(e.dir, "rin.sock")

	e.putAndNotify("foo/1.json", 2)
	e.send(stack.S3EventBody(e.put("late/1.json", []byte(`{"src":"late/1.json","n":"not a number","msg":"x"}`+"\n"))))
	p := e.start("-config", cfg)

	var failed map[string]any
	e.waitFor(60*time.Second, "the late/ job parked as failed", func() bool {
		out, _, code := e.journalCmd("-config", cfg, "dump", "-state", "failed")
		if code != 0 || strings.TrimSpace(out) == "" {
			return false
		}
		return json.Unmarshal([]byte(strings.Split(out, "\n")[0]), &failed) == nil
	})
	if failed["key"] != "late/1.json" || failed["target"] != "targets[1]" || !strings.Contains(failed["last_error"].(string), "stl_load_errors") {
		t.Fatalf("failed job: %v", failed)
	}
	// rin holds the socket, 0600.
	if fi, err := os.Lstat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin socket: %v %v", fi, err)
	}

	var st struct {
		States map[string]int `json:"states"`
		Errors []struct {
			Error string `json:"error"`
		} `json:"errors"`
	}
	if err := json.Unmarshal([]byte(e.mustJournal("-config", cfg, "stats")), &st); err != nil {
		t.Fatal(err)
	}
	if st.States["failed"] != 1 || len(st.Errors) != 1 || !strings.Contains(st.Errors[0].Error, "stl_load_errors") {
		t.Errorf("live stats: %+v", st)
	}
	if out := e.mustJournal("-config", cfg, "stats", "-format", "table"); !strings.Contains(out, "live, through rin pid") {
		t.Errorf("live stats table: %s", out)
	}
	if _, stderr, code := e.journalCmd("-config", cfg, "requeue", "0123456789abcdef"); code == 0 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, "no such job") {
		t.Errorf("requeue of an unknown id: exit %d, %q", code, stderr)
	}
	if _, stderr, code := e.journalCmd("-config", cfg, "compact"); code == 0 || !strings.Contains(stderr, "rin is running") {
		t.Errorf("compact while running: exit %d, %q", code, stderr)
	}

	e.send(stack.S3EventBody(e.put("late/1.json", object("late/1.json", 3)))) // the fixed object, and its event
	out := e.mustJournal("-config", cfg, "requeue", "-all-failed")
	if !strings.Contains(out, "1 job requeued (live") {
		t.Errorf("requeue: %s", out)
	}
	e.waitFor(60*time.Second, "the fixed object loaded", func() bool { return e.rowsBySource("late")["late/1.json"] == 3 })
	e.waitFor(30*time.Second, "the requeued job ended", func() bool {
		out, _, code := e.journalCmd("-config", cfg, "dump", "-state", "failed")
		return code == 0 && strings.TrimSpace(out) == ""
	})
	e.waitFor(30*time.Second, "every job ended", func() bool {
		jobs := e.liveJobs()
		return len(jobs[journal.Received])+len(jobs[journal.Copying])+len(jobs[journal.Copied])+len(jobs[journal.Failed]) == 0
	})
	if out := e.mustJournal("-config", cfg, "check"); !strings.Contains(out, "ok (live") {
		t.Errorf("live check: %s", out)
	}
	metrics := scrapeMetrics(t, sock)
	for _, want := range []string{`rin_jobs{state="acked",target="targets[1]"} `, `rin_jobs_failed_total{target="targets[1]"} 1`, "rin_copy_duration_seconds_count ", `rin_load_latency_seconds_count{target="targets[1]"} `} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}

	p.stop(t)
	if _, err := os.Lstat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("admin socket left after a clean stop: %v", err)
	}
	e.assertExactlyOnce("late", []string{"late/1.json"}, 3)
	e.assertExactlyOnce("foo", []string{"foo/1.json"}, 2)
	e.assertSettled(0)
	if jobs := e.jobs(); len(jobs[journal.Acked])+len(jobs[journal.Superseded]) != 3 {
		t.Errorf("acked jobs: %d, superseded %d; want 3 in all (foo, the late object's two versions)", len(jobs[journal.Acked]), len(jobs[journal.Superseded]))
	}

	// Offline, the same commands open the file.
	if out := e.mustJournal("-config", cfg, "check"); !strings.Contains(out, "ok (offline)") {
		t.Errorf("offline check: %s", out)
	}
	if out := e.mustJournal("-config", cfg, "dump", "-format", "table"); strings.Count(out, "\n") != 4 {
		t.Errorf("offline dump: %s", out)
	}
	if out := e.mustJournal("-config", cfg, "compact", "-replace"); !strings.Contains(out, "compacted") {
		t.Errorf("offline compact: %s", out)
	}
	e.assertNoSecrets()
}
