package journal

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Schema 1 (the first rin) kept jobs as JSON under their id, with the state
// index keyed by id too. Ids are hashes, so the jobs of one batch were
// scattered over the whole tree, and every batch transition rewrote pages
// all over a file that grows with the acked jobs kept for dedupe. Schema 2
// keys jobs by sequence (see doc.go).
var (
	legacyJobs  = []byte("jobs")
	legacyState = []byte("state")
)

// migrateChunk is how many jobs one upgrade transaction moves. The upgrade
// runs in steps so that a large journal does not need one huge transaction;
// each step moves its jobs out of the old buckets and into the new ones
// atomically, so an upgrade cut short by a crash resumes where it stopped.
const migrateChunk = 10000

// migrate upgrades a schema-1 file to the current schema.
func (j *Journal) migrate(from int) error {
	if from != 1 {
		return fmt.Errorf("journal %s: %w: no upgrade from schema %d", j.path, ErrCorrupt, from)
	}
	for {
		done := false
		err := j.db.Update(func(btx *bolt.Tx) error {
			for _, b := range buckets() {
				if _, err := btx.CreateBucketIfNotExists(b); err != nil {
					return err
				}
			}
			old := btx.Bucket(legacyJobs)
			if old == nil {
				done = true
				return j.finishMigration(btx)
			}
			var keys [][]byte
			t := &Tx{tx: btx}
			c := old.Cursor()
			for k, v := c.First(); k != nil && len(keys) < migrateChunk; k, v = c.Next() {
				var job Job
				if err := json.Unmarshal(v, &job); err != nil {
					return fmt.Errorf("job %s: %w: %w", k, ErrCorrupt, err)
				}
				if job.ID != string(k) {
					return fmt.Errorf("job %s: %w: stored under key %s", job.ID, ErrCorrupt, k)
				}
				if err := t.putJob(job, false); err != nil {
					return fmt.Errorf("job %s: %w", k, err)
				}
				keys = append(keys, append([]byte(nil), k...))
			}
			for _, k := range keys {
				if err := old.Delete(k); err != nil {
					return err
				}
			}
			if len(keys) < migrateChunk {
				done = true
				return j.finishMigration(btx)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("journal %s: upgrade from schema %d: %w", j.path, from, err)
		}
		if done {
			j.upgradedFrom = from
			return nil
		}
	}
}

// finishMigration drops the old buckets and stamps the new schema.
func (j *Journal) finishMigration(btx *bolt.Tx) error {
	for _, b := range [][]byte{legacyJobs, legacyState} {
		if btx.Bucket(b) != nil {
			if err := btx.DeleteBucket(b); err != nil {
				return err
			}
		}
	}
	return btx.Bucket(bucketMeta).Put(keySchema, []byte(fmt.Sprint(SchemaVersion)))
}
