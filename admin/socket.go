package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// maxSocketPath is the usable length of a unix socket path (sun_path is 104
// bytes on macOS, 108 on Linux, including the terminating NUL).
const maxSocketPath = 103

// checkSocketPath inspects what sits at path before rin binds or
// rin-journal connects. It returns (false, nil) when nothing does.
func checkSocketPath(path string) (exists bool, err error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("admin socket %s: %w", path, err)
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return true, fmt.Errorf("%s: %w", path, ErrNotSocket)
	}
	if other, uid := ownedByOther(fi); other {
		return true, fmt.Errorf("%s belongs to uid %d, not %d: %w (run as that user)", path, uid, os.Getuid(), ErrSocketOwner)
	}
	return true, nil
}

// listenUnix binds the admin socket with mode 0600.
//
// A socket found at path is refused if it is not ours or if something
// answers on it, and removed if it is a leftover of a dead process. The
// socket is bound under a temporary name, chmod'ed, then renamed into
// place, so it is never reachable at path with looser permissions than
// 0600 whatever the umask.
func listenUnix(ctx context.Context, path string, log *slog.Logger) (*unixListener, error) {
	exists, err := checkSocketPath(path)
	if err != nil {
		return nil, err
	}
	if exists {
		d := net.Dialer{Timeout: time.Second}
		if c, err := d.DialContext(ctx, "unix", path); err == nil {
			c.Close()
			return nil, fmt.Errorf("%s: %w (another rin? give it its own admin.socket)", path, ErrInUse)
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("remove stale admin socket %s: %w", path, err)
		}
		log.Info("removed stale admin socket", "path", path)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("admin socket %s: %w", path, err)
		}
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+"."+strconv.Itoa(os.Getpid()))
	if len(tmp) > maxSocketPath {
		// No room for a temporary name: bind in place. The window before
		// chmod is harmless under the usual umask (connect needs write
		// permission, which 022 and 027 withhold from others).
		tmp = path
	}
	os.Remove(tmp)
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "unix", tmp)
	if err != nil {
		return nil, fmt.Errorf("admin socket %s: %w", path, err)
	}
	ul := l.(*net.UnixListener)
	ul.SetUnlinkOnClose(false) // we remove it ourselves, by its final name
	fail := func(err error) (*unixListener, error) {
		ul.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("admin socket %s: %w", path, err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fail(err)
	}
	if tmp != path {
		if err := os.Rename(tmp, path); err != nil {
			return fail(err)
		}
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return fail(err)
	}
	return &unixListener{UnixListener: ul, path: path, fi: fi}, nil
}

// unixListener removes its socket file on Close, but only if the file is
// still the one it bound: a newer rin may already have replaced it.
type unixListener struct {
	*net.UnixListener
	path string
	fi   os.FileInfo
}

// Addr is the socket's final path, not the temporary name it was bound to.
func (l *unixListener) Addr() net.Addr { return &net.UnixAddr{Name: l.path, Net: "unix"} }

func (l *unixListener) Close() error {
	err := l.UnixListener.Close()
	if fi, serr := os.Lstat(l.path); serr == nil && os.SameFile(fi, l.fi) {
		os.Remove(l.path)
	}
	return err
}

// listenLoopback binds the optional TCP address, refusing any address
// another host could reach: the interface has no authentication.
func listenLoopback(ctx context.Context, addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("admin.addr %q: %w: %w", addr, ErrBadRequest, err)
	}
	var lc net.ListenConfig
	if host != "localhost" {
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("admin.addr %q: %w", addr, ErrNotLoopback)
		}
	}
	l, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("admin.addr %q: %w", addr, err)
	}
	// localhost may resolve to anything; check what was actually bound.
	if ta, ok := l.Addr().(*net.TCPAddr); !ok || !ta.IP.IsLoopback() {
		l.Close()
		return nil, fmt.Errorf("admin.addr %q bound %s: %w", addr, l.Addr(), ErrNotLoopback)
	}
	return l, nil
}
