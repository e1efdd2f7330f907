package config

import (
	"regexp"
	"time"
)

// Drivers accepted in redshift.driver.
const (
	DriverPostgres     = "postgres"      // PostgreSQL wire protocol (default)
	DriverRedshiftData = "redshift-data" // Redshift Data API (cluster or serverless workgroup)
)

// Defaults. They are exported so the README, -dry-run output and tests
// agree with the code.
const (
	DefaultPort             = 5439 // Redshift's port; the original Rin left 0 here
	DefaultSSLMode          = "require"
	DefaultJournalPath      = "rin.journal.db"
	DefaultJournalRetention = Duration(7 * 24 * time.Hour)
	DefaultRetryInitial     = Duration(time.Second)
	DefaultRetryMax         = Duration(30 * time.Second)
	DefaultRetryMultiplier  = 2.0
	DefaultRetryMaxAttempts = 3
	DefaultReceivers        = 2
	DefaultMaxMessages      = 10
	DefaultWaitTime         = Duration(20 * time.Second)
	DefaultVisibility       = Duration(60 * time.Second)
	DefaultMaxPending       = 10000
	DefaultLedgerSchema     = "public"
	DefaultLedgerTable      = "rin_ledger"
	DefaultManifestPrefix   = "_rin/manifests/"
	DefaultBatchMaxFiles    = 1000
	DefaultBatchMaxBytes    = int64(1 << 30)
	DefaultBatchMaxAge      = Duration(2 * time.Second)
	DefaultBatchConcurrency = 4
	DefaultCopyTimeout      = Duration(time.Hour)
	DefaultLockTimeout      = Duration(10 * time.Minute)
	DefaultPruneInterval    = Duration(time.Hour)
	DefaultAdminSocket      = "rin.sock"
	// DefaultShutdownGrace is how long in-flight COPYs may run after a
	// SIGTERM (or the end of -max-execution-time, or a Lambda invocation's
	// deadline margin); not a config key.
	DefaultShutdownGrace = Duration(30 * time.Second)
	// SQSMaxMessages and SQSMaxWaitTime are SQS's bounds on one
	// ReceiveMessage: receive.max_messages and receive.wait_time.
	SQSMaxMessages = 10
	SQSMaxWaitTime = Duration(20 * time.Second)
	// SQSMaxRetention is the longest SQS keeps a message: no event older
	// than this can be delivered again, so the ledger must remember loads
	// for at least the journal's retention plus this.
	SQSMaxRetention = Duration(14 * 24 * time.Hour)
)

// Config is a parsed, defaulted and validated rin configuration. After
// Parse returns it is never modified, so Route may be called from any
// number of goroutines.
//
// The first six keys are the original Rin's and keep its meaning; the rest
// are rin's own and are all optional.
type Config struct {
	QueueName   string      `yaml:"queue_name"`
	Credentials Credentials `yaml:"credentials"`
	Redshift    Redshift    `yaml:"redshift"`
	S3          S3          `yaml:"s3"`
	SQLOption   string      `yaml:"sql_option"`
	Targets     []Target    `yaml:"targets"`

	Journal  Journal  `yaml:"journal"`
	Retry    Retry    `yaml:"retry"`
	Receive  Receive  `yaml:"receive"`
	Ledger   Ledger   `yaml:"ledger"`
	Manifest Manifest `yaml:"manifest"`
	Batch    Batch    `yaml:"batch"`
	Admin    Admin    `yaml:"admin"`
	// Overwrites says what a key written again (new bytes under the same
	// key) does: OverwritesLoad, OverwritesSkip or OverwritesUnchecked.
	Overwrites string `yaml:"overwrites"`

	// Source is where the config was read from, with any URL credentials
	// and query string removed (safe to log).
	Source string `yaml:"-"`
	// Warnings are things that load but are probably not what the author
	// meant (kept for compatibility with the original Rin). The caller
	// logs them at startup.
	Warnings []string `yaml:"-"`
}

// The values of overwrites.
const (
	// OverwritesLoad (the default): every version of a key loads once.
	// Before a COPY rin HEADs each object and loads only objects whose
	// bytes are still the ones their event announced (eTag, versionId); an
	// event whose object has changed since ends superseded, and the newer
	// version loads with its own event. Needs s3:GetObject on the objects.
	OverwritesLoad = "load"
	// OverwritesSkip: a key loads once, from its first event; events of
	// later versions end superseded. No HEAD.
	OverwritesSkip = "skip"
	// OverwritesUnchecked: every event loads whatever the key holds at
	// COPY time, without the HEAD (the original Rin's behaviour): for keys
	// that are never rewritten, one S3 request per object cheaper. Events
	// of one key still supersede older ones by their sequencer.
	OverwritesUnchecked = "unchecked"
)

// Credentials are the AWS credentials of the original Rin. Keys, when
// given, are used for rin's AWS clients and in COPY's CREDENTIALS clause;
// aws_iam_role is used only inside COPY. Without keys the AWS default
// credential chain applies.
type Credentials struct {
	AWSAccessKeyID     string `yaml:"aws_access_key_id"`
	AWSSecretAccessKey string `yaml:"aws_secret_access_key"`
	AWSRegion          string `yaml:"aws_region"`
	AWSIAMRole         string `yaml:"aws_iam_role"`
}

// HasKeys reports whether static access keys are configured.
func (c Credentials) HasKeys() bool { return c.AWSAccessKeyID != "" }

// Redshift is a Redshift endpoint and the destination table. In a target,
// every empty field falls back to the top-level redshift section.
type Redshift struct {
	Driver           string `yaml:"driver"`
	Host             string `yaml:"host"`
	Port             int    `yaml:"port"`
	DBName           string `yaml:"dbname"`
	User             string `yaml:"user"`
	Password         string `yaml:"password"`
	Schema           string `yaml:"schema"`
	Table            string `yaml:"table"`
	Cluster          string `yaml:"cluster"`
	Workgroup        string `yaml:"workgroup"`
	ReconnectOnError bool   `yaml:"reconnect_on_error"`
	// SSLMode is rin's addition (the original always used lib/pq's
	// default, require). Empty means $PGSSLMODE, else "require".
	SSLMode string `yaml:"sslmode"`
}

// S3 selects objects. In a target, empty fields fall back to the top-level
// s3 section.
type S3 struct {
	Bucket    string `yaml:"bucket"`
	Region    string `yaml:"region"`
	KeyPrefix string `yaml:"key_prefix"`
	KeyRegexp string `yaml:"key_regexp"`
}

// Target maps matching objects to a table. After Parse, Redshift, S3,
// SQLOption and Batch hold the effective values (fallback applied).
type Target struct {
	Redshift  Redshift `yaml:"redshift"`
	S3        S3       `yaml:"s3"`
	SQLOption string   `yaml:"sql_option"`
	Break     bool     `yaml:"break"`
	Discard   bool     `yaml:"discard"`
	// Batch overrides the top-level batch limits for this target (rin's
	// own). Unset fields fall back to the top level; concurrency is per
	// endpoint and cannot be set here. Non-nil after Parse.
	Batch *Batch `yaml:"batch"`

	index       int
	re          *regexp.Regexp // nil when matching by prefix
	useManifest bool
}

// Name is how messages refer to the target: "targets[2]".
func (t *Target) Name() string { return targetPath(t.index) }

// Journal is rin's local record of jobs (dedupe, attempts, parked failures).
type Journal struct {
	Path      string   `yaml:"path"`      // default rin.journal.db in the working directory
	Retention Duration `yaml:"retention"` // how long finished jobs are kept: the dedupe window (7d)
}

// Retry is the backoff for failed loads.
type Retry struct {
	InitialInterval Duration `yaml:"initial_interval"` // 1s
	MaxInterval     Duration `yaml:"max_interval"`     // 30s: also the longest gap between probes of a held endpoint
	Multiplier      float64  `yaml:"multiplier"`       // 2
	// MaxAttempts bounds permanent errors (bad data, missing table): the
	// job is parked as failed after this many attempts.
	MaxAttempts int `yaml:"max_attempts"`
	// MaxElapsed bounds transient errors (Redshift read-only during a
	// resize, network); 0 retries forever.
	MaxElapsed Duration `yaml:"max_elapsed"`
}

// Receive tunes SQS polling.
type Receive struct {
	Receivers         int      `yaml:"receivers"`          // concurrent ReceiveMessage loops (2)
	MaxMessages       int32    `yaml:"max_messages"`       // per call, 1..10 (10)
	WaitTime          Duration `yaml:"wait_time"`          // long polling, 1s..20s (20s)
	VisibilityTimeout Duration `yaml:"visibility_timeout"` // extended by heartbeat while a job runs (60s)
	MaxPending        int      `yaml:"max_pending"`        // backpressure: stop receiving above this many unfinished jobs (10000)
}

// Ledger is the table rin writes in the same transaction as each COPY, so
// a load that committed is never repeated.
type Ledger struct {
	Disabled bool   `yaml:"disabled"`
	Schema   string `yaml:"schema"` // public
	Table    string `yaml:"table"`  // rin_ledger: the name, and the prefix of each table's own ledger
	// Retention is how long a ledger row is kept: the dedupe window of the
	// ledger. Default and minimum: journal.retention plus SQSMaxRetention,
	// the oldest a redelivered event can be. Rows older are pruned.
	Retention Duration `yaml:"retention"`
	// PruneInterval is the least time between two prunes of one table's
	// ledger by this process (1h).
	PruneInterval Duration `yaml:"prune_interval"`
}

// Manifest makes COPY load exactly the listed objects. Without it Redshift
// treats the object key as a prefix (loading logs/a/1 also loads
// logs/a/10), and several objects cannot share one COPY.
type Manifest struct {
	Disabled bool   `yaml:"disabled"`
	Bucket   string `yaml:"bucket"` // default: the bucket of the objects
	Prefix   string `yaml:"prefix"` // _rin/manifests/
	// SSE is the server-side encryption of manifest objects: "AES256" or
	// "aws:kms" (with KMSKeyID, or the bucket's AWS managed key). Empty:
	// the bucket's default encryption.
	SSE      string `yaml:"sse"`
	KMSKeyID string `yaml:"kms_key_id"`
}

// Batch bounds how many objects one COPY loads.
type Batch struct {
	MaxFiles    int      `yaml:"max_files"`   // 1000 (forced to 1 without a manifest)
	MaxBytes    int64    `yaml:"max_bytes"`   // 1 GiB
	MaxAge      Duration `yaml:"max_age"`     // 2s: how long the first object waits for company
	Concurrency int      `yaml:"concurrency"` // concurrent COPYs per endpoint (4); top level only
	// CopyTimeout bounds one COPY transaction from the moment its table's
	// guard is held to COMMIT (1h; top level only; also the session's
	// statement_timeout): past it rin cancels the statement and retries it
	// as a transient failure, so a hung connection can never stall an
	// endpoint for good. The wait for the guard is LockTimeout's.
	CopyTimeout Duration `yaml:"copy_timeout"`
	// LockTimeout bounds the wait for the table's exactly-once guard (the
	// lock on its ledger, held by another load of the same table) before
	// the COPY starts (10m; top level only). Past it the batch is retried
	// later, as a statement failure.
	LockTimeout Duration `yaml:"lock_timeout"`
}

// Admin is the local operator interface.
type Admin struct {
	Disabled bool   `yaml:"disabled"`
	Socket   string `yaml:"socket"` // unix socket; default: the journal path with .sock (rin.sock)
	Addr     string `yaml:"addr"`   // optional loopback TCP address, e.g. 127.0.0.1:7410
}
