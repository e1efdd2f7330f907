package admin

import (
	"time"

	"github.com/rinhq/rin/journal"
)

// Record is a job as rin-journal prints it and the admin API sends it: one
// JSON object per line in dump. Its field names are a public interface
// (scripts pipe them to jq), kept apart from the journal's storage format
// so that either can change without the other. Every field is always
// present; times never set are null.
type Record struct {
	ID          string        `json:"id"`
	State       journal.State `json:"state"`
	Target      string        `json:"target"`
	URI         string        `json:"uri"`
	Bucket      string        `json:"bucket"`
	Key         string        `json:"key"`
	Version     string        `json:"version"`
	ETag        string        `json:"etag,omitempty"`
	Sequencer   string        `json:"sequencer,omitempty"`
	Size        int64         `json:"size"`
	Endpoint    string        `json:"endpoint"`
	Schema      string        `json:"schema"`
	Table       string        `json:"table"`
	Attempts    int           `json:"attempts"`
	LastError   string        `json:"last_error"`
	Note        string        `json:"note,omitempty"` // why it ended superseded or removed
	NextAttempt *time.Time    `json:"next_attempt"`
	Rows        int64         `json:"rows"`
	SkippedRows int64         `json:"skipped_rows"` // rows of this object skipped under MAXERROR
	BatchID     string        `json:"batch_id"`
	EventTime   *time.Time    `json:"event_time"`
	Created     time.Time     `json:"created"`
	Updated     time.Time     `json:"updated"`
	CopiedAt    *time.Time    `json:"copied_at"`
}

// NewRecord converts a journal job.
func NewRecord(j journal.Job) Record {
	return Record{
		ID: j.ID, State: j.State, Target: j.Target, URI: j.URI(),
		Bucket: j.Bucket, Key: j.Key, Version: j.Version, ETag: j.ETag, Sequencer: j.Sequencer, Size: j.Size,
		Endpoint: j.Endpoint, Schema: j.Schema, Table: j.Table,
		Attempts: j.Attempts, LastError: j.LastError, Note: j.Note, NextAttempt: timePtr(j.NextAttempt),
		Rows: j.Rows, SkippedRows: j.SkippedRows, BatchID: j.BatchID, EventTime: timePtr(j.EventTime),
		Created: j.Created, Updated: j.Updated, CopiedAt: timePtr(j.CopiedAt),
	}
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
