package journal

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func open(t *testing.T) (*Journal, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rin.journal.db")
	j, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j, path
}

func testJob(id string, s State) Job {
	return Job{ID: id, State: s, Endpoint: "postgres://u@h:5439/db", Schema: "public", Table: "t", Bucket: "b", Key: "k/" + id}
}

func TestPutJobKeepsStateIndex(t *testing.T) {
	j, _ := open(t)
	must(t, j.Update(func(tx *Tx) error { return tx.PutJobVia(testJob("a", Received)) }))
	must(t, j.Update(func(tx *Tx) error { return tx.PutJobVia(testJob("b", Received)) }))
	must(t, j.Update(func(tx *Tx) error {
		job, err := tx.Job("a")
		if err != nil {
			return err
		}
		job.State = Copying
		return tx.PutJobVia(job)
	}))
	must(t, j.View(func(tx *Tx) error {
		var got []string
		tx.ForEachJob(Received, func(j Job) error { got = append(got, j.ID); return nil })
		if strings.Join(got, ",") != "b" {
			t.Errorf("received = %v, want [b]", got)
		}
		counts := tx.CountJobs()
		if counts[Received] != 1 || counts[Copying] != 1 {
			t.Errorf("counts = %v", counts)
		}
		job, err := tx.Job("a")
		if err != nil {
			return err
		}
		if job.Created.IsZero() || job.Updated.IsZero() {
			t.Errorf("timestamps not stamped: %+v", job)
		}
		return nil
	}))
	problems, err := j.Check()
	must(t, err)
	if len(problems) > 0 {
		t.Fatalf("check: %v", problems)
	}
}

func TestJobIDIdentity(t *testing.T) {
	a := JobID("ep", "s", "t", "b", "k", "v1")
	if a != JobID("ep", "s", "t", "b", "k", "v1") {
		t.Fatal("same inputs, different ids")
	}
	for _, other := range []string{
		JobID("ep", "s", "t", "b", "k", "v2"),  // new version of the object
		JobID("ep", "s", "t2", "b", "k", "v1"), // other table
		JobID("ep", "s", "tb", "", "k", "v1"),  // parts shifted between fields
	} {
		if other == a {
			t.Fatal("different jobs share an id")
		}
	}
}

func TestSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	j, err := Open(path, Options{})
	must(t, err)
	must(t, j.Update(func(tx *Tx) error {
		if err := tx.PutMessage(Message{ID: "m1", ReceiptHandle: "h", Jobs: []string{"a"}}); err != nil {
			return err
		}
		return tx.PutJobVia(testJob("a", Copying))
	}))
	must(t, j.Close())
	j, err = Open(path, Options{})
	must(t, err)
	defer j.Close()
	must(t, j.View(func(tx *Tx) error {
		job, err := tx.Job("a")
		if err != nil || job.State != Copying {
			t.Errorf("job after reopen: %+v %v", job, err)
		}
		m, ok, err := tx.Message("m1")
		if err != nil || !ok || m.ReceiptHandle != "h" {
			t.Errorf("message after reopen: %+v %v %v", m, ok, err)
		}
		return nil
	}))
}

func TestLockedBySecondOpener(t *testing.T) {
	_, path := open(t)
	_, err := Open(path, Options{LockTimeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
}

func TestCorruptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.db")
	must(t, os.WriteFile(path, []byte(strings.Repeat("not a bbolt file ", 1000)), 0o600))
	_, err := Open(path, Options{})
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("open corrupt: %v, want ErrCorrupt", err)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.db")
	db, err := bolt.Open(path, 0o600, nil)
	must(t, err)
	must(t, db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		return b.Put(keySchema, []byte("99"))
	}))
	db.Close()
	_, err = Open(path, Options{})
	if !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("open newer: %v, want ErrNewerSchema", err)
	}
}

func TestMissingFileReadOnly(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "none.db"), Options{ReadOnly: true})
	if !errors.Is(err, ErrNotExist) {
		t.Fatalf("got %v, want ErrNotExist", err)
	}
}

func TestForgetAndRequeue(t *testing.T) {
	j, _ := open(t)
	old := time.Now().Add(-48 * time.Hour)
	j.SetClock(func() time.Time { return old })
	must(t, j.Update(func(tx *Tx) error {
		for _, job := range []Job{testJob("old", Acked), testJob("f", Failed)} {
			if err := tx.PutJobVia(job); err != nil {
				return err
			}
		}
		return nil
	}))
	j.SetClock(time.Now)
	must(t, j.Update(func(tx *Tx) error { return tx.PutJobVia(testJob("new", Acked)) }))
	var n int
	must(t, j.Update(func(tx *Tx) (err error) { n, err = tx.Forget(time.Now().Add(-24 * time.Hour)); return err }))
	if n != 1 {
		t.Fatalf("forgot %d, want 1", n)
	}
	must(t, j.Update(func(tx *Tx) error {
		job, err := tx.Requeue("f")
		if err != nil {
			return err
		}
		if job.State != Received || job.Attempts != 0 {
			t.Errorf("requeued: %+v", job)
		}
		if _, err := tx.Requeue("new"); !errors.Is(err, ErrNotFailed) {
			t.Errorf("requeue acked: %v, want ErrNotFailed", err)
		}
		if _, err := tx.Requeue("nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("requeue unknown: %v, want ErrNotFound", err)
		}
		return nil
	}))
}

func TestCheckFindsIndexDrift(t *testing.T) {
	j, _ := open(t)
	must(t, j.Update(func(tx *Tx) error { return tx.PutJobVia(testJob("a", Received)) }))
	// Damage the index behind the journal's back.
	must(t, j.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketIndex).Delete(indexKey(Received, tx.Bucket(bucketIDs).Get([]byte("a"))))
	}))
	problems, err := j.Check()
	must(t, err)
	if len(problems) == 0 {
		t.Fatal("check found nothing")
	}
}

func TestCompact(t *testing.T) {
	j, path := open(t)
	for i := 0; i < 200; i++ {
		id := string(rune('a'+i%26)) + strings.Repeat("x", i)
		must(t, j.Update(func(tx *Tx) error { return tx.PutJobVia(testJob(id, Acked)) }))
	}
	must(t, j.Update(func(tx *Tx) error { _, err := tx.Forget(time.Now().Add(time.Hour)); return err }))
	j.Close()
	dst := path + ".compact"
	before, after, err := Compact(path, dst)
	must(t, err)
	if after > before {
		t.Fatalf("compacted %d → %d", before, after)
	}
	c, err := Open(dst, Options{})
	must(t, err)
	defer c.Close()
	problems, err := c.Check()
	must(t, err)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestRejectedRetention(t *testing.T) {
	j, _ := open(t)
	j.SetClock(func() time.Time { return time.Now().Add(-10 * 24 * time.Hour) })
	must(t, j.Update(func(tx *Tx) error { return tx.PutRejected(Rejected{ID: "old", Reason: "bad", Body: "x"}) }))
	j.SetClock(time.Now)
	must(t, j.Update(func(tx *Tx) error { return tx.PutRejected(Rejected{ID: "new", Reason: "bad", Body: "y"}) }))
	var n int
	must(t, j.Update(func(tx *Tx) (err error) { n, err = tx.ForgetRejected(time.Now().Add(-7 * 24 * time.Hour)); return }))
	must(t, j.View(func(tx *Tx) error {
		if n != 1 || tx.CountRejected() != 1 {
			t.Errorf("forgot %d, %d left; want 1 and 1", n, tx.CountRejected())
		}
		return nil
	}))
}
