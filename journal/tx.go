package journal

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Tx is a journal transaction, read-only inside View.
type Tx struct {
	tx  *bolt.Tx
	now time.Time
}

// Now is the transaction's clock reading, used for Created/Updated stamps.
func (t *Tx) Now() time.Time { return t.now }

// seqKey is a job's key in the jobs and index buckets: its sequence number,
// big-endian so that keys sort in the order jobs were first journaled.
func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), seq) }

// indexKey is a job's entry in the state index: the state, "/", its sequence
// key. A batch of jobs journaled together has neighbouring entries, so a
// transition of the whole batch rewrites few index pages.
func indexKey(s State, seq []byte) []byte {
	k := make([]byte, 0, len(s)+1+len(seq))
	k = append(append(append(k, s...), '/'), seq...)
	return k
}

// jobsFill packs job pages fuller than bbolt's default of one half: jobs
// are appended in sequence order, so a split leaves the left page full for
// good, and half-empty pages would double what every later commit rewrites.
const jobsFill = 0.9

// Job reads one job.
func (t *Tx) Job(id string) (Job, error) {
	seq := t.tx.Bucket(bucketIDs).Get([]byte(id))
	if seq == nil {
		return Job{}, fmt.Errorf("job %s: %w", id, ErrNotFound)
	}
	return t.jobAt(seq, id)
}

// jobAt reads the job stored under sequence key seq. id, when known, names
// the job in errors.
func (t *Tx) jobAt(seq []byte, id string) (Job, error) {
	name := func() string {
		if id != "" {
			return id
		}
		return fmt.Sprintf("#%x", seq)
	}
	v := t.tx.Bucket(bucketJobs).Get(seq)
	if v == nil {
		return Job{}, fmt.Errorf("job %s: %w: indexed under #%x but not stored", name(), ErrCorrupt, seq)
	}
	job, err := decodeJob(v)
	if err != nil {
		return Job{}, fmt.Errorf("job %s: %w: %w", name(), ErrCorrupt, err)
	}
	return job, nil
}

// PutJob writes a job and keeps the state index in step with it. Updated
// is stamped; Created is stamped on a job's first write, which also gives
// the job its sequence number.
func (t *Tx) PutJob(job Job) error {
	if job.Created.IsZero() {
		job.Created = t.now
	}
	job.Updated = t.now
	return t.putJob(job, true)
}

// putJob is PutJob without the time stamps. checked says whether the
// transition from the stored state is checked (transitions.go); only the
// schema upgrade, which copies jobs as they are, writes unchecked.
func (t *Tx) putJob(job Job, checked bool) error {
	if job.ID == "" || !job.State.Valid() {
		return fmt.Errorf("journal: refusing job %q with state %q", job.ID, job.State)
	}
	jobs, ids, idx := t.tx.Bucket(bucketJobs), t.tx.Bucket(bucketIDs), t.tx.Bucket(bucketIndex)
	jobs.FillPercent = jobsFill
	seq := ids.Get([]byte(job.ID))
	indexed := false
	if seq != nil {
		seq = append([]byte(nil), seq...) // bbolt's slice is only valid until the next write
		old := jobs.Get(seq)
		if old == nil {
			return fmt.Errorf("job %s: %w: indexed under #%x but not stored", job.ID, ErrCorrupt, seq)
		}
		prev, err := storedState(old)
		if err != nil {
			return fmt.Errorf("job %s: %w: %w", job.ID, ErrCorrupt, err)
		}
		if checked {
			if err := checkTransition(job.ID, prev, job.State); err != nil {
				return err
			}
		}
		if prev == job.State {
			indexed = true
		} else if err := idx.Delete(indexKey(prev, seq)); err != nil {
			return err
		}
	} else {
		if checked {
			if err := checkTransition(job.ID, "", job.State); err != nil {
				return err
			}
		}
		n, err := jobs.NextSequence()
		if err != nil {
			return err
		}
		seq = seqKey(n)
		if err := ids.Put([]byte(job.ID), seq); err != nil {
			return err
		}
	}
	if err := jobs.Put(seq, encodeJob(job)); err != nil {
		return err
	}
	if indexed {
		return nil
	}
	return idx.Put(indexKey(job.State, seq), nil)
}

// DeleteJob removes a job and its index entries.
func (t *Tx) DeleteJob(id string) error {
	ids := t.tx.Bucket(bucketIDs)
	seq := ids.Get([]byte(id))
	if seq == nil {
		return fmt.Errorf("job %s: %w", id, ErrNotFound)
	}
	seq = append([]byte(nil), seq...)
	job, err := t.jobAt(seq, id)
	if err != nil {
		return err
	}
	if err := t.tx.Bucket(bucketIndex).Delete(indexKey(job.State, seq)); err != nil {
		return err
	}
	if err := t.tx.Bucket(bucketJobs).Delete(seq); err != nil {
		return err
	}
	return ids.Delete([]byte(id))
}

// ForEachJob calls fn for every job in state s (every job when s is ""),
// in the order they were first journaled. Through the state index, pending
// jobs are found without reading the acked ones. fn returning an error
// stops the walk.
func (t *Tx) ForEachJob(s State, fn func(Job) error) error {
	if s == "" {
		return t.tx.Bucket(bucketJobs).ForEach(func(k, v []byte) error {
			job, err := decodeJob(v)
			if err != nil {
				return fmt.Errorf("job #%x: %w: %w", k, ErrCorrupt, err)
			}
			return fn(job)
		})
	}
	prefix := []byte(string(s) + "/")
	c := t.tx.Bucket(bucketIndex).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		job, err := t.jobAt(k[len(prefix):], "")
		if err != nil {
			return err
		}
		if err := fn(job); err != nil {
			return err
		}
	}
	return nil
}

// CountJobs counts the jobs in each state, from the index alone.
func (t *Tx) CountJobs() map[State]int {
	counts := map[State]int{}
	t.tx.Bucket(bucketIndex).ForEach(func(k, _ []byte) error {
		if i := bytes.IndexByte(k, '/'); i > 0 {
			counts[State(k[:i])]++
		}
		return nil
	})
	return counts
}

// Message reads a pending message.
func (t *Tx) Message(id string) (Message, bool, error) {
	var m Message
	v := t.tx.Bucket(bucketMessages).Get([]byte(id))
	if v == nil {
		return m, false, nil
	}
	if err := json.Unmarshal(v, &m); err != nil {
		return m, false, fmt.Errorf("message %s: %w: %w", id, ErrCorrupt, err)
	}
	return m, true, nil
}

// PutMessage records a message that is not yet deleted from SQS.
func (t *Tx) PutMessage(m Message) error {
	if m.Received.IsZero() {
		m.Received = t.now
	}
	v, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return t.tx.Bucket(bucketMessages).Put([]byte(m.ID), v)
}

// DeleteMessage forgets a message once SQS has deleted it.
func (t *Tx) DeleteMessage(id string) error {
	return t.tx.Bucket(bucketMessages).Delete([]byte(id))
}

// ForEachMessage calls fn for every pending message.
func (t *Tx) ForEachMessage(fn func(Message) error) error {
	return t.tx.Bucket(bucketMessages).ForEach(func(k, v []byte) error {
		var m Message
		if err := json.Unmarshal(v, &m); err != nil {
			return fmt.Errorf("message %s: %w: %w", k, ErrCorrupt, err)
		}
		return fn(m)
	})
}

// PutRejected keeps a message rin could not parse.
func (t *Tx) PutRejected(r Rejected) error {
	if r.Rejected.IsZero() {
		r.Rejected = t.now
	}
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return t.tx.Bucket(bucketRejected).Put([]byte(r.ID), v)
}

// ForEachRejected calls fn for every rejected message.
func (t *Tx) ForEachRejected(fn func(Rejected) error) error {
	return t.tx.Bucket(bucketRejected).ForEach(func(k, v []byte) error {
		var r Rejected
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("rejected %s: %w: %w", k, ErrCorrupt, err)
		}
		return fn(r)
	})
}
