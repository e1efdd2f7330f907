// Package fsm is rin's engine: it turns SQS messages into jobs, journals
// them, loads them through a Copier and deletes each message once every job
// it carried is done.
//
// The flow, one file per step:
//
//	jobs.go       the pending jobs in memory (jobTable): received, copying,
//	              copied, with those being admitted and those in flight
//	intake.go     SQS message → records → routes → jobs, journaled (received)
//	admitter.go   what receivers bring, journaled in group commits
//	submit.go     jobs with no SQS message (rin backfill) → journaled (received)
//	versions.go   objects that change: an event older than one seen for its
//	              key ends superseded; the Copier's check before the COPY
//	              ends changed objects superseded, deleted ones removed
//	scheduler.go  due jobs grouped by destination into batches, within each
//	              endpoint's slots (endpointSlots)
//	queue.go      the ready queues the scheduler takes batches from
//	              (readyQueue)
//	pace.go       when a batch that is not full starts: max_age, or sooner
//	              once the intake stops feeding it (group commit per table)
//	load.go       received → copying (durable) → COPY → copied (durable)
//	messages.go   the undeleted SQS messages and the jobs each carries
//	ack.go        message deleted once all its jobs are done → acked (a job
//	              no message refers to is acked once copied);
//	              visibility heartbeat while any job of a message is pending
//	errors.go     the scope a failed COPY names (endpoint … object)
//	hold.go       held scopes, each behind a breaker (breaker.go), probed
//	              with backoff
//	requeue.go    failed jobs sent back to received by a person
//	retention.go  warnings before SQS expires messages rin holds
//	stats.go      counters for /metrics, in total and per target
//	guardstats.go the Copier's waits for its exactly-once guard, for /metrics
//	histogram.go  COPY durations and load latency in fixed buckets
//	config.go     the engine's options from rin's config
//	broadcast.go  wakes every waiter at once: batch mode's end waits on it
//
// Every transition is written to the journal, fsync'd, before the step it
// guards: a job is copying on disk before its COPY is sent and copied on disk
// before its message is deleted. A crash therefore never loses a job, and a
// job found in copying after a restart is simply copied again: the Copier
// checks the Redshift ledger in the COPY's own transaction and skips jobs
// that already committed, which is what makes the load exactly-once.
//
// The engine keeps every pending job (received, copying, copied) in memory
// and the journal as the durable copy; jobs that ended — acked, failed,
// superseded, removed — live only in the journal, whose transition table
// (journal/transitions.go) refuses any other move. The state in memory is
// grouped by concern: each group is a type in its concern's file (jobTable,
// readyQueue, messages, endpointSlots, pacing, holds, ...) whose methods
// keep its invariants, all under the Engine's one mutex.
package fsm
