package journal

import (
	"encoding/json"
	"fmt"
	"time"
)

// The keys bucket remembers, per object key and table, the newest event
// rin has seen of it, so that an older event arriving later (S3 does not
// deliver events in order) is superseded instead of loading, and, with
// overwrites: skip, that a key was seen at all. It is keyed by the key's
// own name (KeyOf), not a hash: object keys are mostly written in time
// order, so the records of one admission sit on neighbouring pages.
var bucketKeys = []byte("keys")

// KeyState is what the journal knows of one key bound for one table.
type KeyState struct {
	// Sequencer of the newest event seen ("" when its event carried none,
	// as jobs from a listing do), and the job that event made.
	Sequencer string    `json:"sequencer,omitempty"`
	Job       string    `json:"job"`
	Updated   time.Time `json:"updated"`
}

// KeyOf names an object key bound for a table in the keys bucket: the
// database, schema and table, then bucket and key.
func KeyOf(endpoint, schema, table, bucket, key string) string {
	return fmt.Sprintf("%s|%s.%s|%s/%s", Database(endpoint), schema, table, bucket, key)
}

// ObjectKey is KeyOf for the job's object and table.
func (j Job) ObjectKey() string { return KeyOf(j.Endpoint, j.Schema, j.Table, j.Bucket, j.Key) }

// KeyState reads what the journal knows of key (KeyOf); ok is false when
// it knows nothing (or the journal predates the keys bucket).
func (t *Tx) KeyState(key string) (ks KeyState, ok bool, err error) {
	b := t.tx.Bucket(bucketKeys)
	if b == nil {
		return KeyState{}, false, nil
	}
	v := b.Get([]byte(key))
	if v == nil {
		return KeyState{}, false, nil
	}
	if err := json.Unmarshal(v, &ks); err != nil {
		return KeyState{}, false, fmt.Errorf("key %q: %w: %w", key, ErrCorrupt, err)
	}
	return ks, true, nil
}

// PutKeyState records ks for key, stamped with the transaction's time.
func (t *Tx) PutKeyState(key string, ks KeyState) error {
	b := t.tx.Bucket(bucketKeys) // made when the journal opens read-write
	if b == nil {
		return fmt.Errorf("key %q: %w: no keys bucket", key, ErrCorrupt)
	}
	ks.Updated = t.now
	v, err := json.Marshal(ks)
	if err != nil {
		return err
	}
	return b.Put([]byte(key), v)
}

// forgetKeys drops key records last updated before cutoff: past the
// journal's retention an older event is no longer told from a new one (the
// ledger and the check of the object's eTag before its COPY still are).
func (t *Tx) forgetKeys(cutoff time.Time) (int, error) {
	b := t.tx.Bucket(bucketKeys)
	if b == nil {
		return 0, nil
	}
	var old [][]byte
	if err := b.ForEach(func(k, v []byte) error {
		var ks KeyState
		if json.Unmarshal(v, &ks) != nil || ks.Updated.Before(cutoff) {
			old = append(old, append([]byte(nil), k...))
		}
		return nil
	}); err != nil {
		return 0, err
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(old), nil
}
