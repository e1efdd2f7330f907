package proc

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// StackModule is the directory, under rin's module root, of the local
// stack's module, which pins the emulators with tool directives (its go.mod
// and go.sum) so that they stay out of rin's own requirements.
const StackModule = "internal/stack"

// ToolBinary returns the path of a tool the stack module pins with a tool
// directive: $envVar if set, or one built once (go build in the stack
// module, so at its go.sum's versions) into the cache dir under name (which
// carries the version, so a new pin builds anew). Builds go to a unique
// temporary name and are renamed into place, so concurrently starting test
// binaries never run a half-written file.
func ToolBinary(ctx context.Context, envVar, name, pkg string) (string, error) {
	if p := os.Getenv(envVar); p != "" {
		if !IsExecutable(p) {
			return "", fmt.Errorf("%s=%s is not an executable file", envVar, p)
		}
		return p, nil
	}
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(cache, name)
	if IsExecutable(bin) {
		return bin, nil
	}
	root, err := ModuleRoot(ctx)
	if err != nil {
		return "", fmt.Errorf("build %s: %w (or set %s)", name, err, envVar)
	}
	modDir := filepath.Join(root, filepath.FromSlash(StackModule))
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", fmt.Errorf("%s cache dir: %w", name, err)
	}
	tmp := bin + ".tmp-" + RandHex(6)
	cmd := exec.CommandContext(ctx, GoTool(), "build", "-o", tmp, pkg)
	cmd.Dir = modDir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("go build %s in %s: %w\n%s", pkg, modDir, err, out.Bytes())
	}
	if err := os.Rename(tmp, bin); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("install %s binary: %w", name, err)
	}
	return bin, nil
}

// CacheDir is $RIN_STACK_CACHE or the user cache dir's "rin".
func CacheDir() (string, error) {
	if d := os.Getenv("RIN_STACK_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("user cache dir (set RIN_STACK_CACHE): %w", err)
	}
	return filepath.Join(d, "rin"), nil
}

// ModuleRoot finds the rin module's directory: go env GOMOD from the working
// directory (test binaries run in their package's directory), falling back
// to walking up for a go.mod naming the module.
func ModuleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, GoTool(), "env", "GOMOD").Output()
	if err == nil {
		if gomod := strings.TrimSpace(string(out)); gomod != "" && gomod != os.DevNull && isRinModule(gomod) {
			return filepath.Dir(gomod), nil
		}
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if isRinModule(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("the rin module (go.mod) was not found above the working directory")
		}
		dir = parent
	}
}

// isRinModule reports whether gomod is rin's go.mod (not the stack
// module's, nor another module's).
func isRinModule(gomod string) bool {
	b, err := os.ReadFile(gomod)
	return err == nil && bytes.Contains(b, []byte("module github.com/rinhq/rin\n"))
}

// GoTool is the go command, preferring PATH.
func GoTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go"
}

// RandHex returns 2n random hex digits.
func RandHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
