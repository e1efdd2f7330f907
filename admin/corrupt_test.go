package admin

import (
	"os"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// lastLeaf finds the last leaf page of a closed journal file (opened for
// writing: bbolt loads the free list, which Tx.Page needs, only then).
func lastLeaf(t *testing.T, path string) (id, size int) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{NoFreelistSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	id = -1
	db.View(func(tx *bolt.Tx) error {
		for n := 2; ; n++ {
			p, err := tx.Page(n)
			if err != nil || p == nil {
				return err
			}
			if p.Type == "leaf" {
				id = n
			}
		}
	})
	if id < 0 {
		t.Fatal("no leaf page")
	}
	return id, db.Info().PageSize
}

// smash overwrites page id with garbage, as a bad disk would. The file may
// be open: bbolt reads it through a shared mapping, so the damage shows at
// the next read.
func smash(t *testing.T, path string, id, size int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte(strings.Repeat("\x5a", size)), int64(id*size)); err != nil {
		t.Fatal(err)
	}
}
