package admin

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rinhq/rin/journal"
)

// staleSocket leaves a socket file with nobody listening, as a killed rin
// does.
func staleSocket(t *testing.T, path string) {
	t.Helper()
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
}

func TestSocketModeAndRemoval(t *testing.T) {
	j := openJournal(t)
	srv, _, sock := startServer(t, j, nil)
	fi, err := os.Lstat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want a socket with 0600", fi.Mode())
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket left behind after shutdown: %v", err)
	}
	if _, err := Dial(context.Background(), sock); !errors.Is(err, ErrNotRunning) {
		t.Errorf("dial after shutdown: %v", err)
	}
}

func TestStaleSocketRemoved(t *testing.T) {
	j := openJournal(t)
	sock := filepath.Join(t.TempDir(), "rin.sock")
	staleSocket(t, sock)
	if _, err := Dial(context.Background(), sock); !errors.Is(err, ErrNotRunning) {
		t.Errorf("dial of a stale socket: %v, want ErrNotRunning", err)
	}
	srv, err := Start(context.Background(), ServerOptions{Journal: j, Socket: sock, Logger: quiet()})
	if err != nil {
		t.Fatalf("start over a stale socket: %v", err)
	}
	defer srv.Shutdown(context.Background())
	c, err := Dial(context.Background(), sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Health().PID != os.Getpid() || !filepath.IsAbs(c.Health().Journal) {
		t.Errorf("health: %+v", c.Health())
	}
}

func TestSocketInUseRefused(t *testing.T) {
	j := openJournal(t)
	_, _, sock := startServer(t, j, nil)
	_, err := Start(context.Background(), ServerOptions{Journal: j, Socket: sock, Logger: quiet()})
	if !errors.Is(err, ErrInUse) {
		t.Fatalf("second server on a live socket: %v", err)
	}
	if _, err := Dial(context.Background(), sock); err != nil {
		t.Errorf("the first server was disturbed: %v", err)
	}
}

func TestSocketNotASocketRefused(t *testing.T) {
	j := openJournal(t)
	path := filepath.Join(t.TempDir(), "rin.sock")
	os.WriteFile(path, []byte("precious"), 0o600)
	if _, err := Start(context.Background(), ServerOptions{Journal: j, Socket: path, Logger: quiet()}); !errors.Is(err, ErrNotSocket) {
		t.Fatalf("start over a regular file: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "precious" {
		t.Error("the file was touched")
	}
}

func TestSocketOwnedByOtherRefused(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to chown a socket to another user")
	}
	j := openJournal(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "rin.sock")
	staleSocket(t, sock)
	if err := os.Lchown(sock, 65534, 65534); err != nil { // nobody
		t.Fatal(err)
	}
	_, err := Start(context.Background(), ServerOptions{Journal: j, Socket: sock, Logger: quiet()})
	if !errors.Is(err, ErrSocketOwner) || !strings.Contains(err.Error(), "uid 65534") {
		t.Errorf("start: %v", err)
	}
	if _, err := os.Lstat(sock); err != nil {
		t.Errorf("another user's socket was removed: %v", err)
	}
	if _, err := Dial(context.Background(), sock); !errors.Is(err, ErrSocketOwner) {
		t.Errorf("dial: %v", err)
	}
}

func TestLoopbackOnlyAndReadOnly(t *testing.T) {
	j := openJournal(t)
	fill(t, j)
	if _, err := Start(context.Background(), ServerOptions{Journal: j, Addr: "0.0.0.0:0", Logger: quiet()}); !errors.Is(err, ErrNotLoopback) {
		t.Errorf("0.0.0.0: %v", err)
	}
	srv, err := Start(context.Background(), ServerOptions{Journal: j, Addr: "127.0.0.1:0", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	base := "http://" + srv.Addrs()[0].String()
	resp, err := http.Get(base + "/metrics")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("metrics over TCP: %v %v", err, resp)
	}
	resp.Body.Close()
	resp, err = http.Post(base+"/v1/requeue", "application/json", strings.NewReader(`{"all_failed":true}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("requeue over TCP: %s, want 403", resp.Status)
	}
	if s := states(t, j); s["f1"] != "failed" {
		t.Error("requeue over the read-only listener changed the journal")
	}
}

// TestDamagedPageLive: a damaged page under a running server is reported
// to the operator, and the server (rin) survives it.
func TestDamagedPageLive(t *testing.T) {
	j := openJournal(t)
	fill(t, j)
	path := j.Path()
	j.Close()
	leaf, size := lastLeaf(t, path)
	j, err := journal.Open(path, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	_, c, _ := startServer(t, j, nil)
	smash(t, path, leaf, size)
	problems, err := c.Check(context.Background())
	if err != nil || len(problems) != 1 || !strings.Contains(problems[0], "bbolt: unreadable page") {
		t.Fatalf("check: %v %v", err, problems)
	}
	err = c.Dump(context.Background(), Filter{}, func(Record) error { return nil })
	if !errors.Is(err, journal.ErrCorrupt) {
		t.Errorf("dump: %v", err)
	}
	if _, err := Dial(context.Background(), filepath.Join(filepath.Dir(j.Path()), "nope.sock")); !errors.Is(err, ErrNotRunning) {
		t.Errorf("dial: %v", err)
	}
}

func TestServerAddrIsSocketPath(t *testing.T) {
	j := openJournal(t)
	srv, _, sock := startServer(t, j, nil)
	if got := srv.Addrs()[0].String(); got != sock {
		t.Errorf("addr %s, want %s", got, sock)
	}
}
