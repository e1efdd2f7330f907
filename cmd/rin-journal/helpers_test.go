package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rinhq/rin/journal"
)

const missingTable = `ERROR: relation "public.missing" does not exist (SQLSTATE 42P01)`

// newJournal writes a journal in a temp dir with jobs in every state and
// closes it: a1 and a2 acked ten days ago, a3 two hours ago, the rest now.
func newJournal(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rin.journal.db")
	j, err := journal.Open(path, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	mk := func(id string, s journal.State, target int, key string) journal.Job {
		return journal.Job{ID: id, State: s, Target: fmt.Sprintf("targets[%d]", target), Endpoint: "postgres://rin@127.0.0.1:5439/dev",
			Schema: "public", Table: fmt.Sprintf("t%d", target), Bucket: "logs", Key: key, Size: 100}
	}
	put := func(at time.Time, jobs ...journal.Job) {
		j.SetClock(func() time.Time { return at })
		if err := j.Update(func(tx *journal.Tx) error {
			for _, job := range jobs {
				job.Created = at.Add(-time.Hour)
				if err := tx.PutJobVia(job); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	put(now.Add(-10*24*time.Hour), mk("a1", journal.Acked, 0, "app/a1.json"), mk("a2", journal.Acked, 1, "web/a2.json"))
	f1 := mk("f1", journal.Failed, 0, "app/f1.json")
	f1.Attempts, f1.LastError = 3, missingTable
	f2 := mk("f2", journal.Failed, 1, "web/f2.json")
	f2.Attempts, f2.LastError = 3, missingTable
	r1 := mk("r1", journal.Received, 0, "app/r1.json")
	r1.Attempts, r1.LastError = 1, "ERROR: invalid timestamp format"
	put(now.Add(-2*time.Hour), mk("a3", journal.Acked, 0, "app/a3.json"))
	put(now, r1, mk("c1", journal.Copying, 1, "web/c1.json"), mk("d1", journal.Copied, 0, "app/d1.json"), f1, f2)
	return path
}

// run runs rin-journal in-process, as a pipe would (JSON by default).
func run(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = (&Main{Stdout: &out, Stderr: &errb}).Run(context.Background(), args)
	return out.String(), errb.String(), err
}

// mustRun fails the test if the command fails.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, stderr, err := run(t, args...)
	if err != nil {
		t.Fatalf("rin-journal %s: %v\nstderr: %s", strings.Join(args, " "), err, stderr)
	}
	return out
}

// oneLineError asserts err is a single line mentioning want.
func oneLineError(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one mentioning %q", want)
	}
	if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), want) {
		t.Errorf("error %q: want one line mentioning %q", err, want)
	}
}

func jobStates(t *testing.T, path string) map[string]journal.State {
	t.Helper()
	j, err := journal.Open(path, journal.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	out := map[string]journal.State{}
	j.View(func(tx *journal.Tx) error {
		return tx.ForEachJob("", func(job journal.Job) error { out[job.ID] = job.State; return nil })
	})
	return out
}
