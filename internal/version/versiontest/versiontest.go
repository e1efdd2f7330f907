// Package versiontest checks, in each command's tests, that the command
// answers -h, -help and -version the same way as every other rin command:
// usage and exit status 0 for -h and -help, one "NAME VERSION (COMMIT,
// GO_VERSION)" line and exit status 0 for -version.
//
// It runs the command as a real process, so the exit status is the one
// main gives: the test binary re-runs itself with env=1, and the
// package's TestMain calls main when it sees that (RunMain).
package versiontest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// RunMain calls main and exits when the test binary was started by Check
// (env set to "1"); otherwise it returns. Call it first in TestMain.
func RunMain(env string, main func()) {
	if os.Getenv(env) == "1" {
		main()
		os.Exit(0)
	}
}

// Check runs the command name (the test binary, see RunMain) with -h,
// -help and -version and fails t unless each exits 0 with the expected
// output.
func Check(t *testing.T, name, env string) {
	t.Helper()
	for _, arg := range []string{"-h", "-help"} {
		stdout, stderr, code := run(t, env, arg)
		if code != 0 {
			t.Errorf("%s %s: exit status %d, want 0\n%s", name, arg, code, stderr)
		}
		if usage := stdout + stderr; !strings.Contains(usage, "Usage: "+name) {
			t.Errorf("%s %s: no \"Usage: %s\" in the output:\n%s", name, arg, name, usage)
		}
	}
	stdout, stderr, code := run(t, env, "-version")
	if code != 0 {
		t.Errorf("%s -version: exit status %d, want 0\n%s", name, code, stderr)
	}
	line := regexp.MustCompile(`^` + regexp.QuoteMeta(name) + ` \S+ \((?:[0-9a-f]{7}(?:\+dirty)?|unknown), go\S+\)\n$`)
	if !line.MatchString(stdout) {
		t.Errorf("%s -version printed %q, want %q", name, stdout, line)
	}
}

func run(t *testing.T, env string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	// -h and -version return at once; the timeout only bounds a broken command.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), env+"=1")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		t.Fatalf("run %v: %v", args, err)
	}
	return out.String(), errOut.String(), code
}
