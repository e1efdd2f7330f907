// Package sqsx is rin's SQS side: it turns message bodies into the S3 objects
// they announce (ParseBody, pure logic) and wraps an SQS queue (Queue) with
// long polling, batched deletes and visibility changes that report failures
// per receipt handle.
//
// SQS delivers at least once and S3 may send an event more than once, so
// nothing here pretends a message is seen once: Record.Version gives the
// content identity that callers dedupe on, and stale receipt handles are
// reported as such (ErrStaleHandle) rather than as generic failures.
//
// The package is tested against goaws v0.5.4, whose differences from SQS it
// absorbs: unresolvable queue-URL hosts (requests always go to the client's
// endpoint), no ChangeMessageVisibilityBatch (single calls instead), its own
// codes for stale handles, and ApproximateReceiveCount always 1.
package sqsx
