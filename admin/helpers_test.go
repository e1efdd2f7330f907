package admin

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/journal"
)

const missingTable = `ERROR: relation "public.missing" does not exist (SQLSTATE 42P01)`

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// openJournal opens a fresh journal file in a temp dir.
func openJournal(t testing.TB) *journal.Journal {
	t.Helper()
	j, err := journal.Open(filepath.Join(t.TempDir(), "rin.journal.db"), journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

// job builds a job of target n with the given state.
func job(id string, s journal.State, target int, key string) journal.Job {
	return journal.Job{
		ID: id, State: s, Target: fmt.Sprintf("targets[%d]", target),
		Endpoint: "postgres://rin@127.0.0.1:5439/dev", Schema: "public", Table: fmt.Sprintf("t%d", target),
		Bucket: "logs", Key: key, Size: 100,
	}
}

// fill writes jobs in every state. Acked a1, a2 were written ten days ago,
// the rest now (the journal stamps Updated from its clock); each was
// created an hour before it was written.
func fill(t testing.TB, j *journal.Journal) {
	t.Helper()
	t0 := time.Now()
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
	old := t0.Add(-10 * 24 * time.Hour)
	put(old, job("a1", journal.Acked, 0, "app/2025/05/22/a1.json"), job("a2", journal.Acked, 1, "web/a2.json"))
	r1 := job("r1", journal.Received, 0, "app/2025/06/01/r1.json")
	r1.Attempts, r1.LastError = 1, missingTable
	f1 := job("f1", journal.Failed, 0, "app/2025/06/01/f1.json")
	f1.Attempts, f1.LastError = 3, missingTable
	f2 := job("f2", journal.Failed, 1, "web/f2.json")
	f2.Attempts, f2.LastError = 3, missingTable
	f3 := job("f3", journal.Failed, 1, "web/f3.json")
	f3.Attempts, f3.LastError = 1, "ERROR: invalid timestamp format"
	put(t0, r1, job("c1", journal.Copying, 1, "web/c1.json"), job("d1", journal.Copied, 0, "app/2025/06/01/d1.json"),
		job("a3", journal.Acked, 0, "app/2025/06/01/a3.json"), f1, f2, f3)
	j.SetClock(time.Now)
}

// newEngine is a real fsm engine on j, not running: what rin hands the
// admin server, minus SQS and Redshift (which requeue and stats never use).
func newEngine(j *journal.Journal) *fsm.Engine {
	return fsm.New(j, nil, nil, nil, fsm.Options{Logger: quiet()})
}

// startServer serves j (through eng, if not nil) on a socket in a temp dir
// and returns a client connected to it.
func startServer(t testing.TB, j *journal.Journal, eng Engine) (*Server, *Client, string) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "rin.sock")
	srv, err := Start(context.Background(), ServerOptions{Journal: j, Engine: eng, Socket: sock, Version: "test", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	c, err := Dial(context.Background(), sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return srv, c, sock
}

func ids(recs []Record) string {
	s := ""
	for i, r := range recs {
		if i > 0 {
			s += ","
		}
		s += r.ID
	}
	return s
}

func dumpIDs(t *testing.T, svc Service, f Filter) string {
	t.Helper()
	var recs []Record
	if err := svc.Dump(context.Background(), f, func(r Record) error { recs = append(recs, r); return nil }); err != nil {
		t.Fatalf("dump %+v: %v", f, err)
	}
	return ids(recs)
}

func states(t *testing.T, j *journal.Journal) map[string]journal.State {
	t.Helper()
	out := map[string]journal.State{}
	if err := j.View(func(tx *journal.Tx) error {
		return tx.ForEachJob("", func(job journal.Job) error { out[job.ID] = job.State; return nil })
	}); err != nil {
		t.Fatal(err)
	}
	return out
}
