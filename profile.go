package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// startProfiles writes a CPU profile to $RIN_CPUPROFILE and, at exit, a heap
// profile to $RIN_MEMPROFILE: off unless set, for `make bench` and anyone
// chasing where rin's time goes (see BENCHMARKS.md). The returned stop
// flushes both; it must run before the process exits.
func startProfiles(getenv func(string) string) (stop func(), err error) {
	cpu, mem := getenv("RIN_CPUPROFILE"), getenv("RIN_MEMPROFILE")
	var f *os.File
	if cpu != "" {
		if f, err = os.Create(cpu); err != nil {
			return nil, fmt.Errorf("RIN_CPUPROFILE: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("RIN_CPUPROFILE: %w", err)
		}
	}
	return func() {
		if f != nil {
			pprof.StopCPUProfile()
			f.Close()
		}
		if mem != "" {
			if m, err := os.Create(mem); err == nil {
				runtime.GC()
				_ = pprof.WriteHeapProfile(m)
				m.Close()
			}
		}
	}, nil
}
