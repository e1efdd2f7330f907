package stacktest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ProcessesMentioning lists "pid: cmdline" of live processes whose command
// line contains s (a temp dir, a port). Tests use it to prove a stop left
// nothing behind. Linux only (reads /proc); elsewhere it returns nil.
func ProcessesMentioning(s string) []string {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var found []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(b) == 0 {
			continue
		}
		cmdline := strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
		if strings.Contains(cmdline, s) && !isZombie(e.Name()) {
			found = append(found, e.Name()+": "+cmdline)
		}
	}
	return found
}

func isZombie(pid string) bool {
	b, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		return true // gone
	}
	// Format: pid (comm) state ...; comm may contain spaces and parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
}
