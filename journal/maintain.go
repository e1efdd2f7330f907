package journal

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Forget drops ended jobs (acked, superseded, removed) last updated before
// cutoff, and the key records as old, and returns how many jobs. Ended jobs
// are the dedupe memory: once forgotten, a redelivery of the same S3 event
// older than cutoff would be journaled as new (the Redshift ledger, when
// enabled, still stops it from loading twice). Failed jobs wait for a
// person and are never forgotten.
func (t *Tx) Forget(cutoff time.Time) (int, error) {
	var ids []string
	for _, s := range []State{Acked, Superseded, Removed} {
		if err := t.ForEachJob(s, func(j Job) error {
			if j.Updated.Before(cutoff) {
				ids = append(ids, j.ID)
			}
			return nil
		}); err != nil {
			return 0, err
		}
	}
	if _, err := t.forgetKeys(cutoff); err != nil {
		return 0, err
	}
	for _, id := range ids {
		if err := t.DeleteJob(id); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// ForgetRejected drops rejected messages journaled before cutoff and
// returns how many. They are kept for a person to read; past the
// retention they only take space.
func (t *Tx) ForgetRejected(cutoff time.Time) (int, error) {
	var ids []string
	if err := t.ForEachRejected(func(r Rejected) error {
		if r.Rejected.Before(cutoff) {
			ids = append(ids, r.ID)
		}
		return nil
	}); err != nil {
		return 0, err
	}
	b := t.tx.Bucket(bucketRejected)
	for _, id := range ids {
		if err := b.Delete([]byte(id)); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// CountRejected counts rejected messages without decoding them.
func (t *Tx) CountRejected() int { return t.tx.Bucket(bucketRejected).Stats().KeyN }

// Requeue sends a failed job back to Received with its attempts reset.
// A job in another state is left alone and reported.
func (t *Tx) Requeue(id string) (Job, error) {
	job, err := t.Job(id)
	if err != nil {
		return job, err
	}
	if job.State != Failed {
		return job, fmt.Errorf("job %s is %s: %w", id, job.State, ErrNotFailed)
	}
	job.State = Received
	job.Attempts = 0
	job.PermanentErrors = 0
	job.NextAttempt = time.Time{}
	return job, t.PutJob(job)
}

// ErrNotFailed: requeue was asked for a job that is not failed.
var ErrNotFailed = errors.New("only failed jobs can be requeued")

// Problem is one inconsistency Check found.
type Problem struct{ What string }

func (p Problem) String() string { return p.What }

// Check verifies the file: bbolt's own page consistency, the schema
// version, every job decodable and valid, and the id and state indexes
// agreeing with the jobs in both directions.
func (j *Journal) Check() ([]Problem, error) {
	var problems []Problem
	add := func(format string, a ...any) { problems = append(problems, Problem{fmt.Sprintf(format, a...)}) }
	err := j.db.View(func(btx *bolt.Tx) error {
		for err := range btx.Check() {
			add("bbolt: %v", err)
		}
		for _, b := range buckets() {
			if btx.Bucket(b) == nil {
				add("missing bucket %q", b)
			}
		}
		if len(problems) > 0 {
			return nil
		}
		if v := string(btx.Bucket(bucketMeta).Get(keySchema)); v != fmt.Sprint(SchemaVersion) {
			add("schema version %q, want %d", v, SchemaVersion)
		}
		t := &Tx{tx: btx}
		ids, idx := btx.Bucket(bucketIDs), btx.Bucket(bucketIndex)
		jobs := 0
		btx.Bucket(bucketJobs).ForEach(func(k, v []byte) error {
			jobs++
			job, err := decodeJob(v)
			switch {
			case err != nil:
				add("job #%x: %v", k, err)
			case !bytes.Equal(ids.Get([]byte(job.ID)), k):
				add("job %s (#%x): id index points at #%x", job.ID, k, ids.Get([]byte(job.ID)))
			case idx.Get(indexKey(job.State, k)) == nil:
				add("job %s: state %s missing from the index", job.ID, job.State)
			}
			return nil
		})
		if n := ids.Stats().KeyN; n != jobs {
			add("id index has %d entries for %d jobs", n, jobs)
		}
		ids.ForEach(func(k, seq []byte) error {
			if job, err := t.jobAt(seq, string(k)); err != nil {
				add("id index entry %s: %v", k, err)
			} else if job.ID != string(k) {
				add("id index entry %s: points at job %s", k, job.ID)
			}
			return nil
		})
		indexed := 0
		idx.ForEach(func(k, _ []byte) error {
			indexed++
			i := bytes.IndexByte(k, '/')
			if i < 0 {
				add("index entry %q malformed", k)
				return nil
			}
			job, err := t.jobAt(k[i+1:], "")
			if err != nil {
				add("index entry %s/#%x: %v", k[:i], k[i+1:], err)
			} else if string(job.State) != string(k[:i]) {
				add("index entry %s/#%x: job %s is %s", k[:i], k[i+1:], job.ID, job.State)
			}
			return nil
		})
		if indexed != jobs {
			add("state index has %d entries for %d jobs", indexed, jobs)
		}
		return t.ForEachMessage(func(m Message) error {
			for _, id := range m.Jobs {
				if _, err := t.Job(id); err != nil {
					add("message %s: %v", m.ID, err)
				}
			}
			return nil
		})
	})
	return problems, err
}

// Compact copies the journal into a new file at dst, dropping free pages
// (bbolt files never shrink by themselves). The source must not be in use
// by a writer; rin-journal runs it offline.
func Compact(src, dst string) (before, after int64, err error) {
	if _, err := os.Stat(dst); err == nil {
		return 0, 0, fmt.Errorf("compact: %s already exists", dst)
	}
	in, err := Open(src, Options{ReadOnly: true})
	if err != nil {
		return 0, 0, err
	}
	defer in.Close()
	out, err := bolt.Open(dst, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return 0, 0, fmt.Errorf("compact: %s: %w", dst, err)
	}
	if err := bolt.Compact(out, in.db, 64<<20); err != nil {
		out.Close()
		os.Remove(dst)
		return 0, 0, fmt.Errorf("compact: %w", err)
	}
	if err := out.Close(); err != nil {
		return 0, 0, err
	}
	si, _ := os.Stat(src)
	di, _ := os.Stat(dst)
	return si.Size(), di.Size(), nil
}
