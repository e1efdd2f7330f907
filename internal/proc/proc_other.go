//go:build unix && !linux

package proc

import "syscall"

// sysProcAttr: without Pdeathsig (Linux only) an aborted test binary can leak
// children on this platform; Stop still cleans up normally.
func sysProcAttr(_ syscall.Signal, cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Credential: cred}
}

func killGroup(pid int) {
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}

// Children is not implemented here: there is no /proc to read.
func Children(int) []int { return nil }
