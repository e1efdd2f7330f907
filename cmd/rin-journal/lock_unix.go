//go:build unix

package main

import (
	"errors"
	"os"
	"syscall"
)

// lockFile takes the exclusive flock bbolt takes for a writer, without
// waiting: if it is held, some process has the journal open.
func lockFile(path string) (func(), error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errLocked
		}
		return nil, err
	}
	return func() { f.Close() }, nil
}

// chownLike gives path the owner of fi, when it differs (rin-journal run
// as root on the journal of a rin that runs as its own user).
func chownLike(path string, fi os.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || int(st.Uid) == os.Getuid() {
		return nil
	}
	return os.Chown(path, int(st.Uid), int(st.Gid))
}
