package main

import (
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/rinhq/rin/internal/version/versiontest"
)

// TestHelpAndVersion: -h and -help exit 0, -version prints
// "rin-stack VERSION (COMMIT, GO_VERSION)", as every rin command does.
func TestHelpAndVersion(t *testing.T) {
	versiontest.Check(t, "rin-stack", "RIN_STACK_TEST_AS_MAIN")
}

// TestREADMEExample parses the arguments of every rin-stack command line
// README.md shows, so that an example cannot name a bucket S3 refuses.
func TestREADMEExample(t *testing.T) {
	readme, err := os.ReadFile("../../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	examples := regexp.MustCompile("run ./cmd/rin-stack([^`\n]*)").FindAllSubmatch(readme, -1)
	if len(examples) == 0 {
		t.Fatal("README.md shows no `go -C internal/stack run ./cmd/rin-stack ...`")
	}
	for _, m := range examples {
		args := strings.Fields(string(m[1]))
		cfg, err := parseFlags(args, io.Discard)
		if err != nil {
			t.Errorf("README example %q: %v", m[0], err)
			continue
		}
		if cfg.bucket == "" || cfg.queue == "" {
			t.Errorf("README example %q creates no bucket or no queue", m[0])
		}
	}
}

func TestBucketName(t *testing.T) {
	for _, ok := range []string{"rin-dev", "abc", "a.b-c.0", strings.Repeat("a", 63)} {
		if _, err := parseFlags([]string{"-bucket", ok}, io.Discard); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"b", "ab", "Bucket", "-abc", "abc.", "a_b", strings.Repeat("a", 64)} {
		if _, err := parseFlags([]string{"-bucket", bad}, io.Discard); err == nil || !strings.Contains(err.Error(), "-bucket") {
			t.Errorf("%q: %v, want an error naming -bucket", bad, err)
		}
	}
}
