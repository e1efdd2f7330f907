// Package proc starts and stops the local stack's subprocesses (goaws,
// PostgreSQL, rin-stack) so that none outlives the process that started it,
// and builds the emulators the stack module pins (ToolBinary).
package proc

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"
)

// ErrNoPostgres means no PostgreSQL server binaries (initdb, postgres) were
// found. Tests skip on it locally and fail on it in CI. Its text is how a
// stack run as a process (internal/stackproc) tells it apart.
var ErrNoPostgres = errors.New("stack: PostgreSQL server binaries (initdb, postgres) not found; install them with: apt-get install postgresql (or set RIN_TEST_POSTGRES_DSN)")

// FreePort asks the kernel for an unused loopback TCP port. The port is free
// when this returns but may be taken before the caller binds it; callers that
// hand the port to a Child process retry on a failed start.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Child is a started subprocess whose exit is observed by one goroutine, so
// both readiness loops and Stop can learn that it has exited without racing
// on cmd.Wait.
type Child struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // cmd.Wait's result, valid after done is closed
}

// Start starts cmd in its own process group with deathSig as its
// parent-death signal. Pdeathsig fires when the OS thread that forked the
// child exits, not the process, so the fork happens on a locked thread; after
// UnlockOSThread the thread returns to the runtime's pool, which keeps it.
func Start(cmd *exec.Cmd, deathSig syscall.Signal, cred *syscall.Credential) (*Child, error) {
	cmd.SysProcAttr = sysProcAttr(deathSig, cred)
	runtime.LockOSThread()
	err := cmd.Start()
	runtime.UnlockOSThread()
	if err != nil {
		return nil, err
	}
	c := &Child{cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// Exited reports whether the process has exited.
func (c *Child) Exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// Stop sends sig to the process, waits up to grace for it to exit, then kills
// its whole process group (postgres backends, if any survived) and waits.
func (c *Child) Stop(sig os.Signal, grace time.Duration) error {
	if c.Exited() {
		return nil
	}
	if err := c.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal pid %d: %w", c.cmd.Process.Pid, err)
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-c.done:
		return nil
	case <-t.C:
	}
	killGroup(c.cmd.Process.Pid)
	<-c.done
	return fmt.Errorf("pid %d did not exit within %s after %v; killed", c.cmd.Process.Pid, grace, sig)
}

// Done is closed when the process has exited.
func (c *Child) Done() <-chan struct{} { return c.done }

// Err is cmd.Wait's result, valid once Done is closed.
func (c *Child) Err() error { return c.err }

// Pid is the process id.
func (c *Child) Pid() int { return c.cmd.Process.Pid }

// LastBytes is the last n bytes of b (a child's output, for an error).
func LastBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// IsExecutable reports whether path is a regular file someone may execute.
func IsExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// KillGroup sends SIGKILL to the process group led by pid: a process that
// put itself (or was put) in a group of its own, with its descendants.
func KillGroup(pid int) { killGroup(pid) }
