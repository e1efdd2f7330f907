package journal

import "time"

// State is where a job stands. The order of the happy path is
// Received → Copying → Copied → Acked.
type State string

const (
	// Received: journaled, not yet sent to Redshift (or sent back after a
	// retryable error, to be tried again at NextAttempt).
	Received State = "received"
	// Copying: a COPY for the job may be in flight or may have committed.
	// Written before the COPY is sent, so a crash leaves a trace; the ledger
	// in Redshift tells whether it committed.
	Copying State = "copying"
	// Copied: the COPY committed. Written before the SQS message is deleted.
	Copied State = "copied"
	// Acked: copied and its SQS message deleted. Kept for the dedupe window.
	Acked State = "acked"
	// Failed: parked for a person after a permanent error (see LastError).
	// rin-journal requeue sends it back to Received.
	Failed State = "failed"
	// Superseded: not loaded because the object changed: a newer version of
	// the key was seen (its event, or the object's bytes when rin checked
	// them before the COPY), or the key was loaded already and the config
	// skips rewrites. Note says which. Not an error: the newer version is
	// what loads.
	Superseded State = "superseded"
	// Removed: not loaded because the object was deleted before its COPY.
	Removed State = "removed"
)

// States lists every state, in the order people read them.
var States = []State{Received, Copying, Copied, Acked, Failed, Superseded, Removed}

// Valid reports whether s is a known state.
func (s State) Valid() bool {
	for _, v := range States {
		if s == v {
			return true
		}
	}
	return false
}

// Pending reports whether a job in this state still needs rin to act.
func (s State) Pending() bool { return s == Received || s == Copying || s == Copied }

// Loaded reports whether a job in this state was loaded into its table.
func (s State) Loaded() bool { return s == Copied || s == Acked }

// Job is one object to be loaded into one table.
type Job struct {
	ID    string `json:"id"`
	State State  `json:"state"`

	// Where it goes. Target names the config target ("targets[1]") for
	// people; Endpoint, Schema and Table are what identify the job.
	Target    string `json:"target"`
	Endpoint  string `json:"endpoint"`
	Schema    string `json:"schema"`
	Table     string `json:"table"`
	SQLOption string `json:"sql_option,omitempty"`
	Region    string `json:"region,omitempty"`
	// Manifest: load through a manifest rin writes (exact key). False when
	// manifests are disabled or the objects are manifests themselves.
	Manifest bool `json:"manifest,omitempty"`
	// MaxFiles is the target's batch limit (0: the engine's default).
	MaxFiles int `json:"max_files,omitempty"`

	// What is loaded.
	Bucket    string    `json:"bucket"`
	Key       string    `json:"key"`
	Version   string    `json:"version,omitempty"`
	Size      int64     `json:"size,omitempty"`
	EventTime time.Time `json:"event_time,omitempty"`
	// ETag and Sequencer are the event's: the eTag says which bytes the
	// event is about (rin checks it before the COPY, so that an event does
	// not load a later version's bytes), the sequencer orders the events of
	// one key (the newest wins).
	ETag      string `json:"etag,omitempty"`
	Sequencer string `json:"sequencer,omitempty"`

	Attempts int `json:"attempts"`
	// PermanentErrors counts attempts that failed with a permanent error;
	// the job is parked as failed when it reaches retry.max_attempts.
	// Transient failures (an outage) do not count against it.
	PermanentErrors int       `json:"permanent_errors,omitempty"`
	LastError       string    `json:"last_error,omitempty"`
	NextAttempt     time.Time `json:"next_attempt,omitempty"`
	Rows            int64     `json:"rows,omitempty"` // rows the COPY that loaded this job loaded (the whole batch)
	// SkippedRows are rows of this object Redshift rejected under MAXERROR
	// in a COPY that committed (stl_load_errors has them).
	SkippedRows int64  `json:"skipped_rows,omitempty"`
	BatchID     string `json:"batch_id,omitempty"`
	// Note says why a job ended superseded or removed.
	Note string `json:"note,omitempty"`

	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
	CopiedAt time.Time `json:"copied_at,omitempty"`
}

// URI is the job's object as Redshift names it.
func (j Job) URI() string { return "s3://" + j.Bucket + "/" + j.Key }

// Message is an SQS message whose jobs are not all finished, or which is not
// yet deleted. Keeping it lets a restarted rin delete it (its receipt handle
// may still be valid) instead of leaving its copied jobs unacknowledged.
type Message struct {
	ID            string    `json:"id"`
	ReceiptHandle string    `json:"receipt_handle"`
	Jobs          []string  `json:"jobs"`
	Received      time.Time `json:"received"`      // when its current delivery was received
	Sent          time.Time `json:"sent,omitzero"` // SQS SentTimestamp: retention counts from it
}

// Rejected is a message rin could not understand. It is kept whole so that
// nothing is lost when rin deletes it from the queue.
type Rejected struct {
	ID       string    `json:"id"`
	Reason   string    `json:"reason"`
	Body     string    `json:"body"`
	Rejected time.Time `json:"rejected"`
}
