// Package admin is how operators see and steer rin's journal: dump, stats,
// rejected messages, requeue, forget and check, offline on the journal file
// or live through the running rin; and how `rin backfill` hands the jobs of
// listed objects to the running rin and follows them (submit.go).
//
// bbolt lets one process hold the journal, so while rin runs nothing else
// can open it. rin therefore serves the same operations over HTTP on a local
// listener (a unix socket, mode 0600, by default), and rin-journal talks to
// it when it answers and opens the file itself when it does not. Both modes
// implement Service, so the command, and the tests, cannot tell them apart
// except by what they print as the mode.
//
// The listener also serves /metrics (Prometheus text format) and /healthz.
// An optional loopback TCP address serves the same read-only endpoints for a
// scraper; changes (requeue, forget, submit) are only accepted on the
// socket, whose file permissions are the only authentication the interface
// has.
package admin
