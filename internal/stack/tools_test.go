package stack

import (
	"os"
	"regexp"
	"testing"

	"github.com/rinhq/rin/internal/localaws"
	"github.com/rinhq/rin/internal/proc"
)

// TestToolVersions: the versions in the cached emulator binaries' names are
// the ones the stack module builds. A bump of internal/stack/go.mod without
// the constant would keep running the old cached binary.
func TestToolVersions(t *testing.T) {
	b, err := os.ReadFile("go.mod") // the stack module's: this package is its root
	if err != nil {
		t.Fatal(err)
	}
	for module, want := range map[string]string{
		"github.com/Admiral-Piett/goaws":                       localaws.GoawsVersion,
		"github.com/aws/aws-lambda-runtime-interface-emulator": rieVersion,
	} {
		m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(module) + ` (\S+)`).FindSubmatch(b)
		if m == nil {
			t.Errorf("%s/go.mod does not require %s", proc.StackModule, module)
			continue
		}
		if string(m[1]) != want {
			t.Errorf("%s/go.mod requires %s %s; the stack names its binary after %s", proc.StackModule, module, m[1], want)
		}
	}
	for _, pkg := range []string{localaws.GoawsPackage, riePackage} {
		if !regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(pkg) + `$`).Match(b) {
			t.Errorf("%s/go.mod has no tool directive for %s", proc.StackModule, pkg)
		}
	}
}
