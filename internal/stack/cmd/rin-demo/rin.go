package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rinhq/rin/internal/proc"
)

// buildRin builds the rin command from rin's module root (the checkout's
// go.mod naming github.com/rinhq/rin, found from the working directory, so
// the demo works from any directory of the checkout) into dir. It is the
// binary users run: no race detector, no test hooks.
func buildRin(ctx context.Context, dir string) (string, error) {
	root, err := proc.ModuleRoot(ctx)
	if err != nil {
		return "", fmt.Errorf("%w: run the demo from the rin checkout (make demo)", err)
	}
	bin := filepath.Join(dir, "rin")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build rin: %w\n%s", err, out)
	}
	return bin, nil
}

// rinProcess is rin running as a child process.
type rinProcess struct {
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
	err  error // Wait's result, once done is closed
}

// stopGrace is how long rin gets to stop after SIGTERM before it is killed.
const stopGrace = 15 * time.Second

// startRin runs `rin -config cfg -batch` in dir with env, its output going to
// logPath. Cancelling ctx asks rin to stop with SIGTERM (it finishes the
// COPYs in flight), and kills it if it does not within stopGrace. rin also
// dies with the demo (parent-death signal on Linux), so an interrupted demo
// leaves no rin behind.
func startRin(ctx context.Context, bin, cfg, dir, logPath string, env []string) (*rinProcess, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("rin log: %w", err)
	}
	cmd := exec.CommandContext(ctx, bin, "-config", cfg, "-batch")
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = childAttr()
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = stopGrace
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start rin: %w", err)
	}
	p := &rinProcess{cmd: cmd, log: logf, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		p.log.Close()
		close(p.done)
	}()
	return p, nil
}

// wait blocks until rin has exited and returns why it failed, if it did.
func (p *rinProcess) wait() error {
	<-p.done
	if p.err != nil {
		return fmt.Errorf("rin: %w", p.err)
	}
	return nil
}

// rinEnv is the environment rin runs with: ours without any AWS_ or RIN_
// setting (a developer's AWS_PROFILE or RIN_CONFIG must not leak into the
// demo), plus the stack's endpoints and keys.
func rinEnv(stackEnv []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "RIN_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, stackEnv...)
}

// stoppedLine reads the summary rin logs when it stops ("rin stopped
// messages=.. jobs=.. duplicates=.."), as key/value pairs; nil if absent.
func stoppedLine(logPath string) map[string]string {
	b, err := os.ReadFile(logPath)
	if err != nil {
		return nil
	}
	lines := strings.Split(string(b), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if !strings.Contains(lines[i], `msg="rin stopped"`) {
			continue
		}
		kv := map[string]string{}
		for _, f := range strings.Fields(lines[i]) {
			if k, v, ok := strings.Cut(f, "="); ok {
				kv[k] = v
			}
		}
		return kv
	}
	return nil
}
