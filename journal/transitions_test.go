package journal

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
)

// Every write is checked against the state machine: a job cannot go back
// from acked, skip copying, or leave an ended state, and a refused write
// leaves the stored job as it was.
func TestTransitionsChecked(t *testing.T) {
	j, err := Open(filepath.Join(t.TempDir(), "j.db"), Options{NoSync: true})
	must(t, err)
	defer j.Close()
	put := func(id string, s State) error {
		return j.Update(func(tx *Tx) error { return tx.PutJob(testJob(id, s)) })
	}
	for _, c := range []struct {
		path []State
		ok   bool
	}{
		{[]State{Received, Copying, Copied, Acked}, true},
		{[]State{Received, Copying, Received, Copying, Failed, Received}, true},
		{[]State{Received, Superseded}, true},
		{[]State{Received, Copying, Removed}, true},
		{[]State{Superseded}, true},
		{[]State{Copying}, false},
		{[]State{Acked}, false},
		{[]State{Received, Copied}, false},
		{[]State{Received, Copying, Copied, Acked, Copying}, false},
		{[]State{Received, Superseded, Received}, false},
		{[]State{Received, Copying, Copied, Received}, false},
	} {
		id := fmt.Sprint(c.path)
		var err error
		last := State("")
		for _, s := range c.path {
			if err = put(id, s); err != nil {
				break
			}
			last = s
		}
		if c.ok != (err == nil) {
			t.Errorf("%v: err %v, want ok=%v", c.path, err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrBadTransition) {
			t.Errorf("%v: err %v, want ErrBadTransition", c.path, err)
		}
		if last == "" {
			continue
		}
		must(t, j.View(func(tx *Tx) error {
			got, err := tx.Job(id)
			if err != nil || got.State != last {
				t.Errorf("%v: stored %q (%v), want %q", c.path, got.State, err, last)
			}
			return nil
		}))
	}
}

// PathTo walks the machine: every state is reachable from a first write.
func TestPathTo(t *testing.T) {
	if got := fmt.Sprint(PathTo(Acked)); got != "[received copying copied acked]" {
		t.Errorf("PathTo(acked) = %s", got)
	}
	j, err := Open(filepath.Join(t.TempDir(), "j.db"), Options{NoSync: true})
	must(t, err)
	defer j.Close()
	for _, s := range States {
		must(t, j.Update(func(tx *Tx) error { return tx.PutJobVia(testJob("via-"+string(s), s)) }))
		p := PathTo(s)
		if len(p) == 0 || p[len(p)-1] != s {
			t.Errorf("PathTo(%s) = %v", s, p)
		}
	}
}
