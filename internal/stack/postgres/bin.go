package postgres

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"

	"github.com/rinhq/rin/internal/proc"
)

// ErrNoPostgres means no PostgreSQL server binaries (initdb, postgres) were
// found (proc.ErrNoPostgres). Tests skip on it locally and fail on it in CI.
var ErrNoPostgres = proc.ErrNoPostgres

// findPostgresBin returns the directory holding initdb and postgres. Debian
// and Ubuntu keep them out of PATH under /usr/lib/postgresql/<major>/bin, so
// those are searched too, preferring 15 (the version the project tests with)
// and then the newest.
func findPostgresBin(explicit string) (string, error) {
	var dirs []string
	if explicit != "" {
		dirs = append(dirs, explicit)
	}
	dirs = append(dirs, "/usr/lib/postgresql/15/bin")
	if p, err := exec.LookPath("initdb"); err == nil {
		dirs = append(dirs, filepath.Dir(p))
	}
	globbed, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(globbed, func(i, j int) bool { return majorOf(globbed[i]) > majorOf(globbed[j]) })
	dirs = append(dirs, globbed...)
	for _, d := range dirs {
		if proc.IsExecutable(filepath.Join(d, "initdb")) && proc.IsExecutable(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", ErrNoPostgres
}

func majorOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// postgresCredential returns the credential to run the server with. PostgreSQL
// refuses to run as root, so as root it runs as the "postgres" OS user that the
// Debian packages create; otherwise it runs as the current user (nil).
func postgresCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, PostgreSQL must run as another user, but user %q is unavailable: %w", "postgres", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("parse uid of postgres user: %w", err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("parse gid of postgres user: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

// Check returns ErrNoPostgres when Start cannot work here:
// no RIN_TEST_POSTGRES_DSN and no server binaries. Tests that start the stack
// in a subprocess use it to skip (or fail in CI) up front.
func Check() error {
	if os.Getenv("RIN_TEST_POSTGRES_DSN") != "" {
		return nil
	}
	_, err := findPostgresBin("")
	return err
}
