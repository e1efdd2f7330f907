package proc

import "syscall"

// sysProcAttr puts the Child in its own process group (so it can be killed
// with its descendants and does not get the terminal's SIGINT before we decide
// how to stop it) and sets its parent-death signal. Go applies Pdeathsig after
// switching credentials, so it survives running as another user.
func sysProcAttr(deathSig syscall.Signal, cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: deathSig, Credential: cred}
}

// killGroup sends SIGKILL to the process group led by pid.
func killGroup(pid int) {
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}
