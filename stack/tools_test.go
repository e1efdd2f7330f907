package stack

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestToolVersions: the versions in the cached emulator binaries' names are
// the ones the tools module builds. A bump of internal/tools/go.mod without
// the constant would keep running the old cached binary.
func TestToolVersions(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(toolsModule), "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for module, want := range map[string]string{
		"github.com/Admiral-Piett/goaws":                       goawsVersion,
		"github.com/aws/aws-lambda-runtime-interface-emulator": rieVersion,
	} {
		m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(module) + ` (\S+)`).FindSubmatch(b)
		if m == nil {
			t.Errorf("%s/go.mod does not require %s", toolsModule, module)
			continue
		}
		if string(m[1]) != want {
			t.Errorf("%s/go.mod requires %s %s; the stack names its binary after %s", toolsModule, module, m[1], want)
		}
	}
	for _, pkg := range []string{goawsPackage, riePackage} {
		if !regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(pkg) + `$`).Match(b) {
			t.Errorf("%s/go.mod has no tool directive for %s", toolsModule, pkg)
		}
	}
}
