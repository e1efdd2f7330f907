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
// Layout (schema version 1):
//
//	meta      "schema_version" → "1"
//	jobs      job id → Job (JSON)
//	state     state + "/" + job id → empty (index of jobs by state)
//	messages  SQS message id → Message (JSON), while the message is undeleted
//	rejected  SQS message id → Rejected (JSON), bodies rin could not parse
package journal
