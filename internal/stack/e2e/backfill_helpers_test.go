package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rinhq/rin/backfill"
)

// rinCmd runs rin with args (a subcommand: backfill, reconcile) to
// completion and returns its exit code, stdout and stderr. stderr also
// goes to a log file the test prints when it fails.
func (e *env) rinCmd(timeout time.Duration, args ...string) (int, string, string) {
	e.t.Helper()
	logPath := filepath.Join(e.dir, fmt.Sprintf("rin-%d-%s.log", len(e.logs)+1, args[0]))
	e.logs = append(e.logs, logPath)
	var out, errb bytes.Buffer
	cmd := exec.Command(rinBin, args...)
	cmd.Dir = e.dir
	cmd.Env = append(os.Environ(), e.st.Env()...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
		cmd.Process.Kill()
		<-done
		os.WriteFile(logPath, errb.Bytes(), 0o600)
		e.t.Fatalf("rin %v did not finish within %s", args, timeout)
	}
	os.WriteFile(logPath, errb.Bytes(), 0o600)
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

// backfillSummary runs rin backfill -json and returns its summary of the
// one target, failing the test unless it exits with wantCode.
func (e *env) backfillSummary(wantCode int, args ...string) backfillJSON {
	e.t.Helper()
	code, out, errOut := e.rinCmd(2*time.Minute, append([]string{"backfill", "-json"}, args...)...)
	var s backfillJSON
	if err := json.Unmarshal([]byte(out), &s); err != nil || code != wantCode || len(s.Targets) != 1 {
		e.t.Fatalf("rin backfill %v exited %d (want %d), %v:\n%s\n%s", args, code, wantCode, err, out, tail([]byte(errOut), 3000))
	}
	return s
}

// backfillJSON is rin backfill -json's summary, as far as tests read it.
type backfillJSON struct {
	Objects  int  `json:"objects"`
	Complete bool `json:"complete"`
	Targets  []struct {
		Jobs, Already, Loaded, Pending, Held, Failed int
		WouldLoad                                    int `json:"would_load"`
	} `json:"targets"`
}

// reconcile runs rin reconcile -json on src and returns its report,
// failing the test unless it exits with wantCode.
func (e *env) reconcile(cfg, src string, wantCode int) *backfill.Report {
	e.t.Helper()
	code, out, errOut := e.rinCmd(time.Minute, "reconcile", "-config", cfg, "-json", src)
	var rep backfill.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != wantCode {
		e.t.Fatalf("rin reconcile exited %d (want %d), %v:\n%s\n%s", code, wantCode, err, tail([]byte(out), 3000), tail([]byte(errOut), 2000))
	}
	if len(rep.Targets) != 1 {
		e.t.Fatalf("reconcile reports %d targets, want 1:\n%s", len(rep.Targets), out)
	}
	if wantCode != 0 && !strings.Contains(errOut, "not everything in S3 is loaded") {
		e.t.Errorf("reconcile exited %d without saying what is not loaded: %s", code, errOut)
	}
	return &rep
}
