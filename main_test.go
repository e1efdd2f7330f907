package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/rinhq/rin/internal/version/versiontest"
)

// asMainEnv makes the test binary run as rin (versiontest.RunMain).
const asMainEnv = "RIN_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	versiontest.RunMain(asMainEnv, main)
	os.Exit(m.Run())
}

// TestHelpAndVersion: -h and -help exit 0, -version prints
// "rin VERSION (COMMIT, GO_VERSION)", as every rin command does.
func TestHelpAndVersion(t *testing.T) {
	versiontest.Check(t, "rin", asMainEnv)
}

// rin -h names its subcommands, so a user finds backfill and doctor.
func TestUsageListsCommands(t *testing.T) {
	var out bytes.Buffer
	err := (&RunCommand{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }}).ParseFlags([]string{"-h"})
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	for _, cmd := range []string{"backfill", "reconcile", "doctor", "route"} {
		if !strings.Contains(out.String(), "\n  "+cmd+" ") {
			t.Errorf("usage does not list %s:\n%s", cmd, out.String())
		}
	}
}
