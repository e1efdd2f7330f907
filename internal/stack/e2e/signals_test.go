package e2e

import (
	"syscall"
	"testing"
	"time"
)

// TestSignalsKeepRinRunning: SIGHUP (which Go's default turns into an
// exit) is logged and ignored, SIGQUIT dumps the goroutines to the log and
// does not end rin (Go's default exits with status 2); rin goes on loading
// and still stops cleanly on SIGTERM.
func TestSignalsKeepRinRunning(t *testing.T) {
	e := newEnv(t)
	e.table("t")
	cfg := e.writeConfig("config.yaml", "  - redshift: {table: t}\n    s3: {key_prefix: a/}\n", "")
	p := e.start("-config", cfg)

	loaded := func(key string, rows int) func() bool {
		return func() bool { return e.rowsBySource("t")[key] == rows }
	}
	e.putAndNotify("a/1.json", 2)
	e.waitFor(time.Minute, "a/1.json loaded", loaded("a/1.json", 2))

	for _, step := range []struct {
		sig syscall.Signal
		log string
	}{
		{syscall.SIGHUP, "SIGHUP received"},
		{syscall.SIGQUIT, "=== end of goroutine dump ==="},
	} {
		if err := p.cmd.Process.Signal(step.sig); err != nil {
			t.Fatalf("%v: %v", step.sig, err)
		}
		e.waitFor(30*time.Second, step.log, func() bool { return e.logsContain(step.log) || exited(p) })
		if exited(p) {
			t.Fatalf("rin exited after %v: %v", step.sig, p.err)
		}
	}
	if !e.logsContain("goroutine ") || !e.logsContain("main.main") {
		t.Error("the SIGQUIT dump holds no goroutine stacks")
	}

	e.putAndNotify("a/2.json", 3)
	e.waitFor(time.Minute, "a/2.json loaded after the signals", loaded("a/2.json", 3))
	p.stop(t)
	e.assertNoSecrets()
}

// exited reports whether the rin process has ended.
func exited(p *proc) bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}
