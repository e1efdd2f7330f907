//go:build unix

package admin

import (
	"os"
	"syscall"
)

// ownedByOther reports whether fi belongs to a user other than this
// process's.
func ownedByOther(fi os.FileInfo) (bool, int) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false, 0
	}
	return int(st.Uid) != os.Getuid(), int(st.Uid)
}
