package main

import "syscall"

// childAttr puts rin in its own process group, so a Ctrl-C at the terminal
// reaches the demo only and the demo decides how rin stops (SIGTERM, then
// the summary), and kills rin if the demo itself dies.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
