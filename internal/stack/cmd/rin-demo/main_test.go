package main

import (
	"os"
	"testing"

	"github.com/rinhq/rin/internal/version/versiontest"
)

// asMainEnv makes the test binary run as rin-demo (versiontest.RunMain).
const asMainEnv = "RIN_DEMO_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	versiontest.RunMain(asMainEnv, main)
	os.Exit(m.Run())
}

// TestHelpAndVersion: -h and -help exit 0, -version prints
// "rin-demo VERSION (COMMIT, GO_VERSION)", as every rin command does.
func TestHelpAndVersion(t *testing.T) {
	versiontest.Check(t, "rin-demo", asMainEnv)
}
