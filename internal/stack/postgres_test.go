package stack_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rinhq/rin/internal/stack"
	"github.com/rinhq/rin/internal/stack/stacktest"
)

func TestPostgresStartStop(t *testing.T) {
	if os.Getenv("RIN_TEST_POSTGRES_DSN") != "" {
		t.Skip("RIN_TEST_POSTGRES_DSN set: no local cluster to start")
	}
	ctx := t.Context()
	pg, err := stack.StartPostgres(ctx, stack.PostgresOptions{Logger: stacktest.Logger(t)})
	stacktest.CheckStart(t, err)
	t.Cleanup(func() { _ = pg.Stop() })
	if !strings.Contains(pg.DSN(), "sslmode=disable") || !strings.HasPrefix(pg.DSN(), "postgres://postgres@127.0.0.1:") {
		t.Fatalf("DSN %q", pg.DSN())
	}

	dsn, err := pg.CreateDatabase(ctx, "isolated_db")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pg.CreateDatabase(ctx, "isolated_db"); err == nil {
		t.Fatal("second CreateDatabase of the same name succeeded")
	}
	if _, err := pg.EnsureDatabase(ctx, "isolated_db"); err != nil {
		t.Fatalf("EnsureDatabase of an existing db: %v", err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	var db string
	var fsync string
	if err := conn.QueryRow(ctx, "SELECT current_database(), current_setting('fsync')").Scan(&db, &fsync); err != nil {
		t.Fatal(err)
	}
	if db != "isolated_db" || fsync != "off" {
		t.Fatalf("db=%q fsync=%q", db, fsync)
	}
	// A session left open must not block Stop (fast shutdown ends it).
	pid := pg.Pid()
	dir := dataDirOf(t, pid)

	start := time.Now()
	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("stop took %s", time.Since(start))
	if err := conn.Ping(context.Background()); err == nil {
		t.Fatal("connection still alive after Stop")
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("postmaster %d still exists: %v", pid, err)
	}
	if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("process group %d still has members: %v", pid, err)
	}
	if left := stacktest.ProcessesMentioning(dir); len(left) > 0 {
		t.Fatalf("processes left behind: %v", left)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("data dir %s not removed: %v", dir, err)
	}
	if err := pg.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
}

// dataDirOf reads the postmaster's -D argument from /proc.
func dataDirOf(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + itoa(pid) + "/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Split(string(b), "\x00")
	for i, a := range args {
		if a == "-D" && i+1 < len(args) {
			return args[i+1]
		}
	}
	t.Fatalf("no -D in %q", args)
	return ""
}
