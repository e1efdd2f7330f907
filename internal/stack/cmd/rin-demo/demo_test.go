package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rinhq/rin/internal/stack"
	"github.com/rinhq/rin/internal/stack/stacktest"
)

// TestDemo runs the demo as `make demo` does, small, twice into the same
// output directory (a second run must start clean), and checks what it
// tells people. A missing PostgreSQL skips it, except under CI=true.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("slow test: skipped with -short (make test-short); make test runs it")
	}
	stacktest.CheckStart(t, stack.CheckPostgres())
	out := t.TempDir()
	for round := 1; round <= 2; round++ {
		ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
		var buf bytes.Buffer
		err := run(ctx, []string{"-objects", "30", "-out", out}, &buf)
		cancel()
		if errors.Is(err, stack.ErrNoPostgres) {
			stacktest.CheckStart(t, err)
		}
		printed := buf.String()
		if err != nil {
			t.Fatalf("run %d: %v\noutput:\n%s", round, err, printed)
		}
		checkSummary(t, printed)
		checkFiles(t, out, printed)
		if procs := stacktest.ProcessesMentioning(out); len(procs) > 0 {
			t.Fatalf("run %d left processes behind: %v", round, procs)
		}
		if t.Failed() {
			t.Logf("output of run %d:\n%s", round, printed)
			return
		}
	}
}

// checkSummary: every table checked and right, the journal all acked, the
// discarded objects not loaded, the duplicate not loaded twice.
func checkSummary(t *testing.T, printed string) {
	t.Helper()
	if strings.Contains(printed, "✘") {
		t.Error("a check failed (✘)")
	}
	for _, table := range []string{"demo.events", "demo.orders", "app.access", "app.error", "web.access", "web.error"} {
		if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(table) + ` .*✔$`).MatchString(printed) {
			t.Errorf("no ✔ row count for %s", table)
		}
	}
	for _, want := range []string{
		"Expecting 27 objects",
		"Journal: 27 jobs (received 0, copying 0, copied 0, acked 27, failed 0, superseded 0, removed 0) ✔",
		"discard target: 3 objects under tmp/ matched, 0 jobs ✔",
		"1 duplicates (not loaded again)",
		"27/27 objects loaded",
		"through manifests",
		"✔ Every table holds the expected rows",
	} {
		if !strings.Contains(printed, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// checkFiles: config, log and journal are where the demo says, and the
// printed config masks the password the written one holds.
func checkFiles(t *testing.T, out, printed string) {
	t.Helper()
	for _, f := range []string{configFile, logFile, journalFile} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	cfg, err := os.ReadFile(filepath.Join(out, configFile))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^  password: "?([^"\n]+)"?$`).FindSubmatch(cfg)
	if m == nil || string(m[1]) == masked {
		t.Fatalf("config.yaml has no real password:\n%s", cfg)
	}
	if strings.Contains(printed, string(m[1])) {
		t.Error("the printed output contains the Redshift password")
	}
	if !strings.Contains(printed, `password: "`+masked+`"`) {
		t.Error("the printed config does not show the password masked")
	}
}
