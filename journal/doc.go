// Package journal is rin's durable record of work: every (object, target)
// pair it has ever been asked to load, and every SQS message still waiting
// to be deleted.
//
// The journal is a single bbolt file. bbolt gives rin two things a daemon on
// a VM needs: each write transaction is fsync'd before Update returns, so a
// state written before a step is taken survives a SIGKILL or power loss; and
// the file is locked, so two rin processes can never share one journal.
//
// A job moves received → copying → copied → acked, or ends parked in failed
// for a person (see State). The journal does not decide transitions; package
// fsm does. The journal only stores them durably and indexes jobs by state so
// that pending work can be found without scanning the jobs already done.
//
// Layout (schema version 2):
//
//	meta      "schema_version" → "2"
//	job       sequence number (8 bytes, big-endian) → Job (binary, codec.go)
//	id        job id → sequence number
//	index     state + "/" + sequence number → empty (jobs by state)
//	messages  SQS message id → Message (JSON), while the message is undeleted
//	rejected  SQS message id → Rejected (JSON), bodies rin could not parse
//
// Jobs are keyed by the order they were first journaled, not by their id,
// because ids are hashes: keyed by id, the jobs of one COPY batch would be
// scattered over the whole tree, and each of the batch's transitions would
// rewrite pages all over a file that keeps every acked job for the dedupe
// window. Keyed by sequence, a batch's jobs and index entries sit on a few
// neighbouring pages, and the acked history is left alone. The id index
// answers "is this job known?" at admission. Schema 1 files are upgraded
// when opened for writing (migrate.go).
package journal
