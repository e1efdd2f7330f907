package main

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the handler's goroutine and the
// test, which it tells of each write.
type syncBuffer struct {
	mu    sync.Mutex
	b     bytes.Buffer
	wrote chan struct{} // closed by the next write
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.wrote != nil {
		close(b.wrote)
		b.wrote = nil
	}
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	s, _ := b.next()
	return s
}

// next returns the output so far and a channel closed at the next write.
func (b *syncBuffer) next() (string, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.wrote == nil {
		b.wrote = make(chan struct{})
	}
	return b.b.String(), b.wrote
}

// TestSignalsKeepRinRunning sends SIGHUP and SIGQUIT to this process with
// watchSignals installed: the test process (which Go's defaults would end
// with either signal) lives on, SIGHUP is logged and SIGQUIT dumps the
// goroutines. e2e's TestSignalsKeepRinRunning does the same to a real rin.
func TestSignalsKeepRinRunning(t *testing.T) {
	var out syncBuffer
	log := slog.New(slog.NewTextHandler(&out, nil))
	stop := watchSignals(log, &out)
	defer stop()

	// One signal at a time: the signal package drops a signal that finds
	// the channel full, and each step waits for the previous one's effect.
	steps := []struct {
		sig  syscall.Signal
		want []string
	}{
		{syscall.SIGHUP, []string{"SIGHUP received: reloading the config is not supported"}},
		{syscall.SIGQUIT, []string{"=== rin goroutine dump", "goroutine ", "TestSignalsKeepRinRunning", "=== end of goroutine dump ==="}},
		{syscall.SIGHUP, []string{"SIGHUP received"}}, // a second one, after the dump: still handled
	}
	for _, step := range steps {
		before := len(out.String())
		if err := syscall.Kill(syscall.Getpid(), step.sig); err != nil {
			t.Fatal(err)
		}
		waitOutput(t, &out, before, step.sig, step.want)
	}
}

// waitOutput waits until the output after offset from holds each of want,
// in order, looking again at each write.
func waitOutput(t *testing.T, out *syncBuffer, from int, sig syscall.Signal, want []string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		all, wrote := out.next()
		rest, ok := all[from:], true
		for _, w := range want {
			i := strings.Index(rest, w)
			if i < 0 {
				ok = false
				break
			}
			rest = rest[i+len(w):]
		}
		if ok {
			return
		}
		select {
		case <-wrote:
		case <-deadline:
			t.Fatalf("10s after %v, the output lacks %q:\n%s", sig, want, out.String()[from:])
		}
	}
}
