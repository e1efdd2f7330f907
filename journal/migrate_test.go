package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// writeSchema1 writes a journal the way the first rin did: jobs as JSON
// under their id, the state index keyed by id.
func writeSchema1(t *testing.T, path string, jobs []Job, msgs []Message) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	must(t, err)
	defer db.Close()
	must(t, db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMeta, legacyJobs, legacyState, bucketMessages, bucketRejected} {
			if _, err := tx.CreateBucket(b); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketMeta).Put(keySchema, []byte("1")); err != nil {
			return err
		}
		for _, j := range jobs {
			v, _ := json.Marshal(j)
			if err := tx.Bucket(legacyJobs).Put([]byte(j.ID), v); err != nil {
				return err
			}
			if err := tx.Bucket(legacyState).Put([]byte(string(j.State)+"/"+j.ID), nil); err != nil {
				return err
			}
		}
		for _, m := range msgs {
			v, _ := json.Marshal(m)
			if err := tx.Bucket(bucketMessages).Put([]byte(m.ID), v); err != nil {
				return err
			}
		}
		return nil
	}))
}

func schema1Jobs(n int) []Job {
	states := schema1States
	created := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	jobs := make([]Job, n)
	for i := range jobs {
		j := benchJob(i)
		j.State = states[i%len(states)]
		j.EventTime = created
		j.Created, j.Updated = created, created.Add(time.Duration(i)*time.Millisecond)
		if j.State == Failed {
			j.LastError, j.Attempts, j.PermanentErrors = "ERROR: bad data", 3, 3
		}
		jobs[i] = j
	}
	return jobs
}

// sameJob compares what a person and rin read from a job.
func sameJob(a, b Job) bool {
	eq := func(x, y time.Time) bool { return x.Equal(y) }
	return a.ID == b.ID && a.State == b.State && a.Key == b.Key && a.Table == b.Table && a.Attempts == b.Attempts &&
		a.LastError == b.LastError && eq(a.Created, b.Created) && eq(a.Updated, b.Updated) && eq(a.EventTime, b.EventTime)
}

func TestUpgradeFromSchema1(t *testing.T) {
	if testing.Short() {
		t.Skip("slow test: skipped with -short (make test-short); make test runs it")
	}
	path := filepath.Join(t.TempDir(), "old.db")
	// More jobs than one upgrade step moves, so the upgrade takes several.
	jobs := schema1Jobs(migrateChunk + 57)
	writeSchema1(t, path, jobs, []Message{{ID: "m1", ReceiptHandle: "h", Jobs: []string{jobs[0].ID, jobs[1].ID}}})

	// Read-only, it cannot be upgraded: a clear error, the file untouched.
	if _, err := Open(path, Options{ReadOnly: true}); !errors.Is(err, ErrOlderSchema) {
		t.Fatalf("read-only open of schema 1: %v, want ErrOlderSchema", err)
	}

	j, err := Open(path, Options{})
	must(t, err)
	defer j.Close()
	if j.UpgradedFrom() != 1 {
		t.Errorf("UpgradedFrom = %d, want 1", j.UpgradedFrom())
	}
	checkUpgraded(t, j, jobs)
	must(t, j.View(func(tx *Tx) error {
		m, ok, err := tx.Message("m1")
		if err != nil || !ok || len(m.Jobs) != 2 {
			t.Errorf("message after upgrade: %+v %v %v", m, ok, err)
		}
		return nil
	}))
	// Transitions work on upgraded jobs, and new jobs follow them.
	must(t, j.Update(func(tx *Tx) error {
		job, err := tx.Job(jobs[0].ID)
		if err != nil {
			return err
		}
		job.State = Copying
		if err := tx.PutJob(job); err != nil {
			return err
		}
		return tx.PutJob(testJob("new", Received))
	}))
	problems, err := j.Check()
	must(t, err)
	if len(problems) > 0 {
		t.Fatalf("check after upgrade and writes: %v", problems)
	}
}

// An upgrade cut short (some jobs moved, schema still 1) finishes on the
// next open, with every job exactly once.
func TestUpgradeResumes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "half.db")
	jobs := schema1Jobs(40)
	writeSchema1(t, path, jobs, nil)
	db, err := bolt.Open(path, 0o600, nil)
	must(t, err)
	must(t, db.Update(func(btx *bolt.Tx) error {
		for _, b := range buckets() {
			if _, err := btx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		tx := &Tx{tx: btx}
		for _, job := range jobs[:15] {
			if err := tx.putJob(job, false); err != nil {
				return err
			}
			if err := btx.Bucket(legacyJobs).Delete([]byte(job.ID)); err != nil {
				return err
			}
		}
		return nil
	}))
	must(t, db.Close())

	j, err := Open(path, Options{})
	must(t, err)
	defer j.Close()
	checkUpgraded(t, j, jobs)
}

func checkUpgraded(t *testing.T, j *Journal, want []Job) {
	t.Helper()
	must(t, j.View(func(tx *Tx) error {
		seen := map[string]bool{}
		if err := tx.ForEachJob("", func(got Job) error {
			if seen[got.ID] {
				return fmt.Errorf("job %s twice", got.ID)
			}
			seen[got.ID] = true
			return nil
		}); err != nil {
			return err
		}
		if len(seen) != len(want) {
			t.Errorf("%d jobs after upgrade, want %d", len(seen), len(want))
		}
		for _, w := range want {
			got, err := tx.Job(w.ID)
			if err != nil {
				return err
			}
			if !sameJob(got, w) {
				t.Fatalf("job after upgrade:\n got %+v\nwant %+v", got, w)
			}
		}
		counts := tx.CountJobs()
		for _, s := range schema1States {
			if counts[s] != len(want)/len(schema1States) && counts[s] != len(want)/len(schema1States)+1 {
				t.Errorf("%s: %d jobs, want about %d", s, counts[s], len(want)/len(schema1States))
			}
		}
		return nil
	}))
	problems, err := j.Check()
	must(t, err)
	if len(problems) > 0 {
		t.Fatalf("check after upgrade: %v", problems)
	}
	must(t, j.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(legacyJobs) != nil || tx.Bucket(legacyState) != nil {
			t.Error("schema-1 buckets left behind")
		}
		return nil
	}))
}

// schema1States are the states schema-1 journals knew.
var schema1States = []State{Received, Copying, Copied, Acked, Failed}
