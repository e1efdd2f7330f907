package stack

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

	"github.com/rinhq/rin/stack/internal/proc"
)

// goaws is pinned as a tool in the tools module (internal/tools/go.mod), not
// in rin's own go.mod, so that neither it nor its dependencies are
// requirements of the product; v0.4.5 rejects every call from the current
// aws-sdk-go-v2, so the version is part of the cached binary's name.
const (
	goawsVersion = "v0.5.4"
	goawsPackage = "github.com/Admiral-Piett/goaws/app/cmd"
)

// goawsBinary returns the path of a goaws binary: $RIN_GOAWS_BIN, or one built
// once from the module's pinned version into the cache dir.
func goawsBinary(ctx context.Context) (string, error) {
	return toolBinary(ctx, "RIN_GOAWS_BIN", "goaws-"+goawsVersion, goawsPackage)
}

// toolsModule is the directory, under rin's module root, of the module that
// pins the emulators with tool directives (its go.mod and go.sum).
const toolsModule = "internal/tools"

// toolBinary returns the path of a tool the tools module pins with a tool
// directive: $envVar if set, or one built once (go build in the tools
// module, so at its go.sum's versions) into the cache dir under name (which
// carries the version, so a new pin builds anew). Builds go to a unique
// temporary name and are renamed into place, so concurrently starting test
// binaries never run a half-written file.
func toolBinary(ctx context.Context, envVar, name, pkg string) (string, error) {
	if p := os.Getenv(envVar); p != "" {
		if !proc.IsExecutable(p) {
			return "", fmt.Errorf("%s=%s is not an executable file", envVar, p)
		}
		return p, nil
	}
	cache, err := cacheDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(cache, name)
	if proc.IsExecutable(bin) {
		return bin, nil
	}
	root, err := moduleRoot(ctx)
	if err != nil {
		return "", fmt.Errorf("build %s: %w (or set %s)", name, err, envVar)
	}
	modDir := filepath.Join(root, filepath.FromSlash(toolsModule))
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", fmt.Errorf("%s cache dir: %w", name, err)
	}
	tmp := bin + ".tmp-" + randHex(6)
	cmd := exec.CommandContext(ctx, goTool(), "build", "-o", tmp, pkg)
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

// cacheDir is $RIN_STACK_CACHE or the user cache dir's "rin".
func cacheDir() (string, error) {
	if d := os.Getenv("RIN_STACK_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("user cache dir (set RIN_STACK_CACHE): %w", err)
	}
	return filepath.Join(d, "rin"), nil
}

// moduleRoot finds the rin module's directory: go env GOMOD from the working
// directory (test binaries run in their package's directory), falling back
// to walking up for a go.mod naming the module.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, goTool(), "env", "GOMOD").Output()
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

// isRinModule reports whether gomod is rin's go.mod (not the tools
// module's, nor another module's).
func isRinModule(gomod string) bool {
	b, err := os.ReadFile(gomod)
	return err == nil && bytes.Contains(b, []byte("module github.com/rinhq/rin\n"))
}

// goTool is the go command, preferring PATH.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go"
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
