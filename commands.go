package main

import (
	"context"
	"io"
)

// command is one of rin's commands: rin itself (RunCommand) or a
// subcommand.
type command interface {
	Run(ctx context.Context, args []string) error
}

// commandFor picks the command args name — `rin backfill ...`, `rin
// reconcile ...`, `rin doctor ...`, `rin route ...` — else rin itself,
// and returns the arguments it takes.
func commandFor(args []string, stdout, stderr io.Writer, getenv func(string) string) (command, []string) {
	if len(args) > 0 {
		switch args[0] {
		case "backfill":
			return &BackfillCommand{Stdout: stdout, Stderr: stderr, Getenv: getenv}, args[1:]
		case "reconcile":
			return &ReconcileCommand{Stdout: stdout, Stderr: stderr, Getenv: getenv}, args[1:]
		case "doctor":
			return &DoctorCommand{Stdout: stdout, Stderr: stderr, Getenv: getenv}, args[1:]
		case "route":
			return &RouteCommand{Stdout: stdout, Stderr: stderr, Getenv: getenv}, args[1:]
		}
	}
	return &RunCommand{Stdout: stdout, Stderr: stderr, Getenv: getenv}, args
}
