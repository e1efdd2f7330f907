package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

// watchSignals handles the signals an operator sends a running rin besides
// SIGTERM and SIGINT (which stop it; see main), until the returned function
// is called:
//
//   - SIGHUP, which init systems and habit send to "reload", must not kill
//     rin (Go's default for SIGHUP is to exit) with jobs in flight. rin does
//     not reload its config: targets, endpoints and the journal are bound
//     into running jobs, so a new config takes a restart, which is safe at
//     any moment. It logs that and goes on.
//   - SIGQUIT writes every goroutine's stack to stderr and goes on. Go's
//     default does the same but then exits with status 2, which would turn
//     "why is rin stuck?" into an outage; here the operator gets the stacks
//     and rin keeps its place.
//
// signal.Notify is called before watchSignals returns, so a signal sent
// after it returns is never handled by the default action.
func watchSignals(log *slog.Logger, stderr io.Writer) (stop func()) {
	ch := make(chan os.Signal, 4) // signals arriving while a dump is written queue up, to a point
	signal.Notify(ch, syscall.SIGHUP, syscall.SIGQUIT)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-done:
				return
			case sig := <-ch:
				switch sig {
				case syscall.SIGHUP:
					log.Warn("SIGHUP received: reloading the config is not supported, rin keeps running with the config it started with; restart rin (SIGTERM, then start) to apply a new one")
				case syscall.SIGQUIT:
					log.Info("SIGQUIT received: writing every goroutine's stack to stderr; rin keeps running")
					if err := dumpGoroutines(stderr); err != nil {
						log.Error("SIGQUIT: goroutine dump failed", "error", err)
					}
				}
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
		<-finished
	}
}

// dumpGoroutines writes all goroutines' stacks in the format of a Go crash
// (debug=2), between markers so the dump can be cut out of a log.
func dumpGoroutines(w io.Writer) error {
	fmt.Fprintf(w, "=== rin goroutine dump (pid %d) ===\n", os.Getpid())
	if err := pprof.Lookup("goroutine").WriteTo(w, 2); err != nil {
		return fmt.Errorf("write goroutine stacks: %w", err)
	}
	_, err := fmt.Fprintln(w, "=== end of goroutine dump ===")
	return err
}
