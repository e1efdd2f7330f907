package journal

import (
	"bytes"
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

func stateKey(s State, id string) []byte { return []byte(string(s) + "/" + id) }

// Job reads one job.
func (t *Tx) Job(id string) (Job, error) {
	var job Job
	v := t.tx.Bucket(bucketJobs).Get([]byte(id))
	if v == nil {
		return job, fmt.Errorf("job %s: %w", id, ErrNotFound)
	}
	if err := json.Unmarshal(v, &job); err != nil {
		return job, fmt.Errorf("job %s: %w: %v", id, ErrCorrupt, err)
	}
	return job, nil
}

// PutJob writes a job and keeps the state index in step with it. Updated
// is stamped; Created is stamped on a job's first write.
func (t *Tx) PutJob(job Job) error {
	if job.ID == "" || !job.State.Valid() {
		return fmt.Errorf("journal: refusing job %q with state %q", job.ID, job.State)
	}
	jobs, idx := t.tx.Bucket(bucketJobs), t.tx.Bucket(bucketState)
	if old := jobs.Get([]byte(job.ID)); old != nil {
		prev, err := storedState(job.ID, old)
		if err != nil {
			return err
		}
		if prev != job.State {
			if err := idx.Delete(stateKey(prev, job.ID)); err != nil {
				return err
			}
		}
	}
	if job.Created.IsZero() {
		job.Created = t.now
	}
	job.Updated = t.now
	v, err := json.Marshal(job)
	if err != nil {
		return err
	}
	if err := jobs.Put([]byte(job.ID), v); err != nil {
		return err
	}
	return idx.Put(stateKey(job.State, job.ID), nil)
}

// storedState reads the state of a stored job. Every transition reads it to
// move the index entry, so it looks where json.Marshal puts it (right after
// the id: Job's first two fields) before decoding the whole value.
func storedState(id string, v []byte) (State, error) {
	prefix := `{"id":"` + id + `","state":"`
	if rest, ok := bytes.CutPrefix(v, []byte(prefix)); ok {
		if i := bytes.IndexByte(rest, '"'); i > 0 && bytes.IndexByte(rest[:i], '\\') < 0 {
			return State(rest[:i]), nil
		}
	}
	var prev struct {
		State State `json:"state"`
	}
	if err := json.Unmarshal(v, &prev); err != nil {
		return "", fmt.Errorf("job %s: %w: %v", id, ErrCorrupt, err)
	}
	return prev.State, nil
}

// DeleteJob removes a job and its index entry.
func (t *Tx) DeleteJob(id string) error {
	job, err := t.Job(id)
	if err != nil {
		return err
	}
	if err := t.tx.Bucket(bucketState).Delete(stateKey(job.State, id)); err != nil {
		return err
	}
	return t.tx.Bucket(bucketJobs).Delete([]byte(id))
}

// ForEachJob calls fn for every job in state s (every job when s is ""),
// in id order. Through the state index, pending jobs are found without
// reading the acked ones. fn returning an error stops the walk.
func (t *Tx) ForEachJob(s State, fn func(Job) error) error {
	if s == "" {
		return t.tx.Bucket(bucketJobs).ForEach(func(k, v []byte) error {
			var job Job
			if err := json.Unmarshal(v, &job); err != nil {
				return fmt.Errorf("job %s: %w: %v", k, ErrCorrupt, err)
			}
			return fn(job)
		})
	}
	prefix := []byte(string(s) + "/")
	c := t.tx.Bucket(bucketState).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		job, err := t.Job(string(k[len(prefix):]))
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
	t.tx.Bucket(bucketState).ForEach(func(k, _ []byte) error {
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
		return m, false, fmt.Errorf("message %s: %w: %v", id, ErrCorrupt, err)
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
			return fmt.Errorf("message %s: %w: %v", k, ErrCorrupt, err)
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
			return fmt.Errorf("rejected %s: %w: %v", k, ErrCorrupt, err)
		}
		return fn(r)
	})
}
