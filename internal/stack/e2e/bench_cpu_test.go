package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rinhq/rin/internal/stack"
)

// Per-process CPU accounting for the benchmarks. The machine has 2 cores
// shared by rin, the whole local stack and other people's work, so rin's own
// CPU alone cannot say why a run is slower than the SQS ceiling: these
// figures split the CPU spent during a run between rin, goaws, PostgreSQL,
// this test process (the Redshift simulator and gofakes3 run in it), the
// rest of the machine, and what stayed idle.

// clockTicks is USER_HZ, the unit of /proc's CPU times (`getconf CLK_TCK`:
// 100 on Linux for every architecture Go supports; Go cannot read it
// without cgo).
const clockTicks = 100

// cpuSnapshot is the CPU time used so far, in seconds (user + system), by
// each part of the stack and by the machine. Two snapshots taken around a
// run give what the run used (sub).
type cpuSnapshot struct {
	goaws float64 // the SQS emulator subprocess
	// pg is the postmaster and all its children. Backends come and go
	// during a run: live children are read one by one, and those that have
	// exited by the second snapshot show up in the postmaster's
	// cutime/cstime, which therefore counts too. Zero with an external
	// server (RIN_TEST_POSTGRES_DSN): its CPU then shows as "other".
	pg float64
	// self is this test process: the Redshift simulator, gofakes3, the
	// benchmark's own clients. Not its children (rin, goaws, PostgreSQL are
	// counted on their own; their times reach our cutime once reaped).
	self float64
	// busy and idle are the whole machine's, summed over all cores, from
	// /proc/stat (idle includes iowait; steal and guest time are left out).
	busy, idle float64
}

// takeCPU reads a snapshot. Errors (a process that just exited, no /proc)
// read as zero: the figures are for a report, not a check.
func takeCPU(st *stack.Stack) cpuSnapshot {
	s := cpuSnapshot{goaws: procCPU(st.SQS().Pid(), false), self: procCPU(os.Getpid(), false)}
	if pm := st.Postgres().Pid(); pm > 0 {
		s.pg = procCPU(pm, true)
		for _, child := range childrenOf(pm) {
			s.pg += procCPU(child, false)
		}
	}
	s.busy, s.idle = machineCPU()
	return s
}

// sub is the CPU used between from and s.
func (s cpuSnapshot) sub(from cpuSnapshot) cpuSnapshot {
	return cpuSnapshot{
		goaws: s.goaws - from.goaws, pg: s.pg - from.pg, self: s.self - from.self,
		busy: s.busy - from.busy, idle: s.idle - from.idle,
	}
}

// cpuUse is how a run's CPU seconds split. other is the machine's busy time
// that none of the measured processes used: other people's work, the
// kernel's, and the rounding of /proc's 10 ms ticks (so it can come out
// slightly negative).
type cpuUse struct {
	rin, goaws, pg, test, idle, other float64
}

// cpuUsed splits d (a snapshot difference) given rin's own CPU seconds,
// measured separately (rusage or /proc).
func cpuUsed(d cpuSnapshot, rin float64) cpuUse {
	return cpuUse{
		rin: rin, goaws: d.goaws, pg: d.pg, test: d.self, idle: d.idle,
		other: d.busy - rin - d.goaws - d.pg - d.self,
	}
}

// fields lists the figures, for taking medians one by one.
func (u *cpuUse) fields() []*float64 {
	return []*float64{&u.rin, &u.goaws, &u.pg, &u.test, &u.idle, &u.other}
}

func (u cpuUse) String() string {
	return fmt.Sprintf("cpu_s: rin=%.2f goaws=%.2f postgres=%.2f testproc=%.2f idle=%.2f other=%.2f",
		u.rin, u.goaws, u.pg, u.test, u.idle, u.other)
}

// procCPU reads a process's utime+stime from /proc/<pid>/stat in seconds,
// plus cutime+cstime (its reaped children's) when withChildren is set.
func procCPU(pid int, withChildren bool) float64 {
	f := procStat(pid)
	if len(f) < 15 {
		return 0
	}
	// f[0] is field 3 (state) of proc(5); utime, stime, cutime, cstime are
	// fields 14-17.
	n := 2
	if withChildren {
		n = 4
	}
	var ticks float64
	for _, v := range f[11 : 11+n] {
		t, _ := strconv.ParseFloat(v, 64)
		ticks += t
	}
	return ticks / clockTicks
}

// procStat returns the fields of /proc/<pid>/stat after the command name
// (which may hold spaces, hence the split at its closing parenthesis).
func procStat(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

// childrenOf lists the live processes whose parent is pid.
func childrenOf(pid int) []int {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	want := strconv.Itoa(pid)
	var out []int
	for _, d := range dirs {
		child, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		if f := procStat(child); len(f) > 1 && f[1] == want {
			out = append(out, child)
		}
	}
	return out
}

// machineCPU reads the busy and idle seconds of all cores since boot from
// the first line of /proc/stat: user nice system idle iowait irq softirq
// steal guest guest_nice. Guest time is already in user; steal is time the
// hypervisor gave to other guests, neither ours nor idle.
func machineCPU() (busy, idle float64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, 0
	}
	v := make([]float64, 7)
	for i := range v {
		v[i], _ = strconv.ParseFloat(f[i+1], 64)
	}
	busy = v[0] + v[1] + v[2] + v[5] + v[6]
	idle = v[3] + v[4]
	return busy / clockTicks, idle / clockTicks
}
