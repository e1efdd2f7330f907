// Package lambdamode runs rin as an SQS-triggered AWS Lambda function.
//
// Lambda mode is another source into rin's one engine, not a second
// pipeline: each invocation hands its records to an fsm.Engine through a
// Queue over those records (queue.go), and the engine does what it does in
// the daemon — parse each body (sqsx), route it (config), journal its jobs,
// batch them into manifest COPYs through the redshift Copier, whose ledger
// row is committed in the COPY's own transaction.
//
// What differs is what Lambda gives and takes:
//
//   - The function never touches SQS. The event source mapping polls,
//     and deletes the records the response does not list in
//     batchItemFailures. So Delete only marks a record done, and
//     ChangeVisibility does nothing: a function in a VPC without an SQS
//     endpoint works.
//   - Lambda's disk is ephemeral, so each invocation journals into a fresh
//     file under the temp dir and removes it when it returns (invocation.go).
//     The Redshift ledger is the record of what was loaded: a redelivered
//     record, a duplicate S3 event, or a COPY whose commit the client never
//     saw loads nothing twice, because the Copier skips jobs the ledger holds.
//   - An invocation has a deadline. The engine runs in batch mode with a
//     context that ends a margin before it (deadline.go), so it stops
//     starting COPYs in time and lets running ones finish within what is
//     left of the margin.
//
// The response (outcome.go) lists exactly the records whose objects are not
// all loaded: records the engine did not delete (their jobs still pending
// when the invocation stopped — an environment fault holds them all), and
// records with a job that failed for good (bad data, missing table), which
// in the daemon would be parked in the journal for a person and here go
// back to the queue, and so to its redrive policy. A poison message (a body
// that is no S3 event) is logged with its whole body and dropped, or, with
// PoisonRedrive, returned to the queue for its redrive policy.
package lambdamode
