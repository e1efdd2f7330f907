package journal

import (
	"path/filepath"
	"testing"
	"time"
)

// Key records round-trip, survive a reopen, and are forgotten with the
// ended jobs once older than the cutoff.
func TestKeyStates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	j, err := Open(path, Options{NoSync: true})
	must(t, err)
	old := KeyOf("postgres://u@h:5439/dev", "s", "t", "b", "logs/old.json")
	fresh := KeyOf("postgres://u@h:5439/dev", "s", "t", "b", "logs/new.json")
	j.SetClock(func() time.Time { return time.Now().Add(-48 * time.Hour) })
	must(t, j.Update(func(tx *Tx) error { return tx.PutKeyState(old, KeyState{Sequencer: "01", Job: "a"}) }))
	j.SetClock(time.Now)
	must(t, j.Update(func(tx *Tx) error { return tx.PutKeyState(fresh, KeyState{Sequencer: "02", Job: "b"}) }))
	must(t, j.Close())

	j, err = Open(path, Options{NoSync: true})
	must(t, err)
	defer j.Close()
	must(t, j.Update(func(tx *Tx) error {
		ks, ok, err := tx.KeyState(fresh)
		if err != nil || !ok || ks.Sequencer != "02" || ks.Job != "b" || ks.Updated.IsZero() {
			t.Errorf("KeyState after reopen: %+v %v %v", ks, ok, err)
		}
		if _, err := tx.Forget(time.Now().Add(-24 * time.Hour)); err != nil {
			return err
		}
		if _, ok, _ := tx.KeyState(old); ok {
			t.Error("a key record older than the cutoff survived Forget")
		}
		if _, ok, _ := tx.KeyState(fresh); !ok {
			t.Error("Forget dropped a recent key record")
		}
		return nil
	}))
}
