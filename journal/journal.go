package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// SchemaVersion is the on-disk format this build writes. A journal written by
// a newer rin is refused rather than misread.
const SchemaVersion = 2

// Bucket names (see doc.go for the layout).
var (
	bucketMeta     = []byte("meta")
	bucketJobs     = []byte("job")
	bucketIDs      = []byte("id")
	bucketIndex    = []byte("index")
	bucketMessages = []byte("messages")
	bucketRejected = []byte("rejected")
	keySchema      = []byte("schema_version")
)

// buckets lists every bucket of the current schema.
func buckets() [][]byte {
	return [][]byte{bucketMeta, bucketJobs, bucketIDs, bucketIndex, bucketMessages, bucketRejected}
}

// Sentinel errors, so callers (and rin-journal) can tell a person what to do.
var (
	// ErrLocked: another process (normally a running rin) holds the file.
	ErrLocked = errors.New("journal is locked by another process")
	// ErrNewerSchema: the file was written by a newer rin.
	ErrNewerSchema = errors.New("journal was written by a newer rin")
	// ErrOlderSchema: the file was written by an older rin and is opened
	// read-only, so it cannot be upgraded (any read-write open upgrades it).
	ErrOlderSchema = errors.New("journal was written by an older rin and needs an upgrade")
	// ErrCorrupt: the file is not a readable journal.
	ErrCorrupt = errors.New("journal is corrupt")
	// ErrNotExist: Open was asked not to create the file and it is missing.
	ErrNotExist = errors.New("journal does not exist")
	// ErrNotFound: no job with that id.
	ErrNotFound = errors.New("no such job")
)

// Options tune Open.
type Options struct {
	// LockTimeout bounds the wait for the file lock; 0 means 1s.
	LockTimeout time.Duration
	// ReadOnly opens for reading (shared lock) without creating the file.
	ReadOnly bool
	// MustExist refuses to create a new file.
	MustExist bool
	// NoSync skips fsync; only for benchmarks that measure everything else.
	NoSync bool
}

// Journal is an open journal file. It is safe for concurrent use.
type Journal struct {
	db     *bolt.DB
	path   string
	now    func() time.Time
	commit *committer
	// upgradedFrom is the schema Open upgraded the file from; 0 if none.
	upgradedFrom int
}

// Open opens (creating it unless told not to) the journal at path.
func Open(path string, opts Options) (*Journal, error) {
	if _, err := os.Stat(path); err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("journal %s: %w", path, err)
		}
		if opts.ReadOnly || opts.MustExist {
			return nil, fmt.Errorf("journal %s: %w", path, ErrNotExist)
		}
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("journal %s: create directory: %w", path, err)
			}
		}
	}
	timeout := opts.LockTimeout
	if timeout <= 0 {
		timeout = time.Second
	}
	db, err := openBolt(path, &bolt.Options{Timeout: timeout, ReadOnly: opts.ReadOnly, NoSync: opts.NoSync, NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return nil, err
	}
	j := &Journal{db: db, path: path, now: time.Now, commit: &committer{db: db}}
	if err := j.safeInit(opts.ReadOnly); err != nil {
		db.Close()
		return nil, err
	}
	return j, nil
}

// openBolt opens the file and turns bbolt's failures into ours. bbolt can
// panic on some corrupt files; that becomes ErrCorrupt too, never a crash.
func openBolt(path string, o *bolt.Options) (db *bolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("journal %s: %w: %v", path, ErrCorrupt, r)
		}
	}()
	db, err = bolt.Open(path, 0o600, o)
	switch {
	case err == nil:
		return db, nil
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("journal %s: %w (is rin running? use its admin socket, or stop it)", path, ErrLocked)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrVersionMismatch):
		return nil, fmt.Errorf("journal %s: %w: %w", path, ErrCorrupt, err)
	default:
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
}

// safeInit is init with bbolt's panics on damaged pages turned into
// ErrCorrupt: a corrupt journal must stop rin with a clear error, not a
// stack trace.
func (j *Journal) safeInit(readOnly bool) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("journal %s: %w: %v", j.path, ErrCorrupt, r)
		}
	}()
	return j.init(readOnly)
}

// init creates the buckets of a new file, checks the schema of an old one
// and upgrades a file an older rin wrote (migrate.go).
func (j *Journal) init(readOnly bool) error {
	var version int
	if err := j.db.View(func(tx *bolt.Tx) error {
		var err error
		version, err = j.schemaOf(tx, readOnly)
		return err
	}); err != nil {
		return err
	}
	if version > SchemaVersion {
		return fmt.Errorf("journal %s: %w (schema %d, this rin reads up to %d)", j.path, ErrNewerSchema, version, SchemaVersion)
	}
	if readOnly {
		if version < SchemaVersion {
			return fmt.Errorf("journal %s: %w (schema %d, this rin reads %d): rin upgrades it when it starts with it", j.path, ErrOlderSchema, version, SchemaVersion)
		}
		return nil
	}
	if version > 0 && version < SchemaVersion {
		if err := j.migrate(version); err != nil {
			return err
		}
	}
	return j.db.Update(func(tx *bolt.Tx) error {
		// keys came after schema 2 without changing it: a file without it is
		// still schema 2 (readers treat it as empty), and gets it here.
		for _, b := range append(buckets(), bucketKeys) {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("journal %s: create bucket %s: %w", j.path, b, err)
			}
		}
		meta := tx.Bucket(bucketMeta)
		if meta.Get(keySchema) == nil {
			return meta.Put(keySchema, []byte(strconv.Itoa(SchemaVersion)))
		}
		return nil
	})
}

// schemaOf reads the file's schema version; 0 for a new, empty file.
func (j *Journal) schemaOf(tx *bolt.Tx, readOnly bool) (int, error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		if readOnly {
			return 0, fmt.Errorf("journal %s: %w: no meta bucket (not a rin journal?)", j.path, ErrCorrupt)
		}
		return 0, nil
	}
	v := meta.Get(keySchema)
	n, err := strconv.Atoi(string(v))
	if err != nil || n < 1 {
		return 0, fmt.Errorf("journal %s: %w: schema version %q", j.path, ErrCorrupt, v)
	}
	return n, nil
}

// UpgradedFrom reports the schema version Open upgraded the file from, or 0
// when the file was already current (or new). rin logs it.
func (j *Journal) UpgradedFrom() int { return j.upgradedFrom }

// Path is the file's path.
func (j *Journal) Path() string { return j.path }

// Close waits for queued updates, then releases the file and its lock.
func (j *Journal) Close() error {
	j.commit.close()
	return j.db.Close()
}

// Update runs fn in one durable write transaction: when Update returns nil,
// every write fn made is on disk. Concurrent callers are group-committed
// (commit.go): the calls that arrive while one commit syncs share the next
// transaction and fsync, which is what keeps the journal's cost per job far
// below a COPY's. Because of that, fn may run more than once and must only
// depend on what it reads through tx.
func (j *Journal) Update(fn func(tx *Tx) error) error {
	now := j.now()
	return j.commit.do(func(btx *bolt.Tx) error { return fn(&Tx{tx: btx, now: now}) })
}

// View runs fn in a read-only transaction: a consistent snapshot.
func (j *Journal) View(fn func(tx *Tx) error) error {
	return j.db.View(func(btx *bolt.Tx) error { return fn(&Tx{tx: btx, now: j.now()}) })
}

// SetClock replaces the journal's clock; for tests.
func (j *Journal) SetClock(now func() time.Time) { j.now = now }
