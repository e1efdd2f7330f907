// Package e2e holds rin's end-to-end tests: the real rin binary, run as a
// separate process (and killed with SIGKILL), against the local stack of
// package stack: goaws for SQS, gofakes3 for S3 and the Redshift simulator
// on a real PostgreSQL. Its tests need PostgreSQL's server binaries; under
// CI=true they fail without them, never skip.
package e2e
