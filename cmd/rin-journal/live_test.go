package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rinhq/rin/admin"
	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/journal"
)

// serve plays rin: it holds the journal and serves the admin socket at its
// default place beside it, with a real (not running) engine.
func serve(t *testing.T, path string) (*journal.Journal, *fsm.Engine) {
	t.Helper()
	j, err := journal.Open(path, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng := fsm.New(j, nil, nil, nil, fsm.Options{Logger: log})
	srv, err := admin.Start(context.Background(), admin.ServerOptions{
		Journal: j, Engine: eng, Socket: filepath.Join(filepath.Dir(path), "rin.sock"), Version: "test", Logger: log,
	})
	if err != nil {
		j.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Shutdown(context.Background())
		j.Close()
	})
	return j, eng
}

func TestLive(t *testing.T) {
	path := newJournal(t)
	_, eng := serve(t, path)

	out := mustRun(t, "-journal", path, "dump", "-state", "failed")
	if strings.Count(out, "\n") != 2 || !strings.Contains(out, `"id":"f1"`) {
		t.Errorf("live dump: %s", out)
	}
	_, stderr, err := run(t, "-journal", path, "dump", "-format", "table")
	if err != nil || !strings.Contains(stderr, "8 jobs (live, through rin pid") {
		t.Errorf("live table: %v %s", err, stderr)
	}
	var st admin.Stats
	if err := json.Unmarshal([]byte(mustRun(t, "-journal", path, "stats")), &st); err != nil || st.Total != 8 {
		t.Errorf("live stats: %v %+v", err, st)
	}
	out = mustRun(t, "-journal", path, "check")
	if !strings.Contains(out, "ok (live") {
		t.Errorf("live check: %s", out)
	}

	_, _, err = run(t, "-journal", path, "requeue", "f1", "nope")
	oneLineError(t, err, "job nope: no such job")
	_, _, err = run(t, "-journal", path, "requeue", "a3")
	oneLineError(t, err, "only failed jobs can be requeued")
	out = mustRun(t, "-journal", path, "requeue", "-all-failed")
	if !strings.Contains(out, "2 jobs requeued (live") || !strings.Contains(out, "rin loads them now") {
		t.Errorf("live requeue: %s", out)
	}
	if p := eng.Stats().Pending; p != 2 {
		t.Errorf("engine pending after live requeue = %d, want 2", p)
	}
	out = mustRun(t, "-journal", path, "forget")
	if !strings.Contains(out, "forgot 2 acked jobs") || !strings.Contains(out, "live") {
		t.Errorf("live forget: %s", out)
	}

	_, _, err = run(t, "-journal", path, "compact")
	oneLineError(t, err, "rin is running")
	if _, err := os.Stat(path + ".compact"); err == nil {
		t.Error("compact wrote a file while rin runs")
	}
}

// TestLockedWithoutSocket: rin runs with its admin interface disabled.
func TestLockedWithoutSocket(t *testing.T) {
	path := newJournal(t)
	j, err := journal.Open(path, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	_, _, err = run(t, "-journal", path, "stats")
	oneLineError(t, err, "locked by another process")
}

func TestOtherUsersSocket(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to chown a socket to another user")
	}
	path := newJournal(t)
	sock := filepath.Join(filepath.Dir(path), "rin.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := os.Lchown(sock, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	before := jobStates(t, path)
	_, _, err = run(t, "-journal", path, "requeue", "-all-failed")
	oneLineError(t, err, "owned by another user")
	if after := jobStates(t, path); after["f1"] != before["f1"] {
		t.Error("requeue went ahead despite the foreign socket")
	}
}

func TestStaleSocketFallsBackOffline(t *testing.T) {
	path := newJournal(t)
	l, err := net.Listen("unix", filepath.Join(filepath.Dir(path), "rin.sock"))
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	out := mustRun(t, "-journal", path, "check")
	if !strings.Contains(out, "ok (offline)") {
		t.Errorf("check with a stale socket: %s", out)
	}
}
