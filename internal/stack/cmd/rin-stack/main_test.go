package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rinhq/rin/internal/stack"
	"github.com/rinhq/rin/internal/stack/stacktest"
)

// TestMain lets the test binary double as rin-stack, so the test can run it
// as a real subprocess and stop it with a real signal.
func TestMain(m *testing.M) {
	if os.Getenv("RIN_STACK_TEST_AS_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestRinStackServesAndStopsOnSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("slow test: skipped with -short (make test-short); make test runs it")
	}
	stacktest.CheckStart(t, stack.CheckPostgres())
	envFile := filepath.Join(t.TempDir(), "stack.env")
	cmd := exec.Command(os.Args[0], "-env-file", envFile, "-bucket", "demo-bucket", "-queue", "demo-queue", "-visibility-timeout", "7")
	cmd.Env = append(os.Environ(), "RIN_STACK_TEST_AS_MAIN=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = testWriter{t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	var printed strings.Builder
	go func() {
		io.Copy(&printed, stdout)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})

	env := waitEnvFile(t, envFile, exited)
	for _, k := range []string{"AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_REGION", "AWS_DEFAULT_REGION", "PGSSLMODE", "RIN_STACK_CONTROL", "RIN_STACK_REDSHIFT_HOST", "RIN_STACK_REDSHIFT_PORT",
		"RIN_STACK_REDSHIFT_DSN", "RIN_STACK_PG_DSN", "RIN_STACK_QUEUE_URL", "RIN_STACK_DLQ_URL"} {
		if env[k] == "" {
			t.Errorf("env file lacks %s: %v", k, env)
		}
	}
	if env["RIN_STACK_BUCKET"] != "demo-bucket" || env["RIN_STACK_QUEUE"] != "demo-queue" {
		t.Errorf("bucket/queue: %v", env)
	}

	control := env["RIN_STACK_CONTROL"]
	for _, path := range []string{"/ready", "/stats", "/env"} {
		resp, err := http.Get(control + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
		if path == "/stats" && !strings.Contains(string(body), "copies") {
			t.Fatalf("GET /stats: %s", body)
		}
	}
	resp, err := http.Post(control+"/faults/read-only?on=1", "", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST read-only: %v %v", resp, err)
	}
	resp.Body.Close()

	// The processes the stack started, to check after the signal.
	pids := childPids(cmd.Process.Pid)
	if len(pids) < 2 {
		t.Fatalf("expected postgres and goaws children, found %v", pids)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("rin-stack exited with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("rin-stack did not exit within 30s of SIGTERM")
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); err != syscall.ESRCH {
			t.Errorf("child %d survived: %v", pid, err)
		}
	}
	if _, err := os.Stat(envFile); !os.IsNotExist(err) {
		t.Errorf("env file left behind: %v", err)
	}
	if !strings.Contains(printed.String(), "export AWS_ENDPOINT_URL_SQS=") {
		t.Errorf("stdout lacks the exports:\n%s", printed.String())
	}
}

func waitEnvFile(t *testing.T, path string, exited <-chan error) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	for {
		if f, err := os.Open(path); err == nil {
			defer f.Close()
			env := map[string]string{}
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				k, v, _ := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "=")
				env[k] = strings.Trim(v, "'")
			}
			return env
		}
		select {
		case err := <-exited:
			t.Fatalf("rin-stack exited before writing %s: %v", path, err)
		case <-ctx.Done():
			t.Fatal("env file never appeared")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// childPids lists the direct children of pid from /proc.
func childPids(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		fields := strings.Fields(s[i+1:])
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			n, _ := strconv.Atoi(e.Name())
			out = append(out, n)
		}
	}
	return out
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func TestExportLinesQuote(t *testing.T) {
	got := exportLines([]string{"A=plain/1:2", "B=postgres://u:p@h/db?sslmode=disable&x=1", "C=it's"})
	want := "export A=plain/1:2\nexport B='postgres://u:p@h/db?sslmode=disable&x=1'\nexport C='it'\\''s'\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestControlMustBeLoopback(t *testing.T) {
	if err := checkLoopback("0.0.0.0:80"); err == nil {
		t.Fatal("0.0.0.0 accepted")
	}
	for _, a := range []string{"127.0.0.1:0", "[::1]:0", "localhost:9"} {
		if err := checkLoopback(a); err != nil {
			t.Fatalf("%s: %v", a, err)
		}
	}
}
