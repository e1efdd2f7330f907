package admin

import (
	"io"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/journal"
)

// writeMetrics writes every rin metric. Engine counters are since rin
// started (Prometheus handles the reset on restart); job counts are the
// journal's.
func writeMetrics(w io.Writer, c jobCounts, eng Engine, version string, now time.Time) error {
	p := newPromWriter(w)

	p.family("rin_build_info", "gauge", "Always 1; the version label is rin's build.")
	p.sample("rin_build_info", 1, "version", version)

	p.family("rin_jobs", "gauge", "Jobs in the journal by state and target. Acked counts are recounted every few minutes; the other states on every scrape.")
	for _, target := range slices.Sorted(maps.Keys(c.targets)) {
		for _, s := range journal.States {
			p.sample("rin_jobs", float64(c.targets[target][s]), "state", string(s), "target", target)
		}
	}
	oldest := 0.0
	if !c.oldestPending.IsZero() {
		oldest = now.Sub(c.oldestPending).Seconds()
	}
	p.gauge("rin_oldest_pending_job_age_seconds", "Age of the oldest pending (received, copying or copied) job; 0 when none.", oldest)
	p.gauge("rin_rejected_messages", "SQS messages rin could not parse, kept in the journal (rin-journal rejected lists them). Recounted every few minutes.", float64(c.rejected))

	if eng != nil {
		writeEngineMetrics(p, eng.Stats(), eng.Holds())
	}
	return p.flush()
}

func writeEngineMetrics(p *promWriter, s fsm.Stats, holds []fsm.Hold) {
	p.counter("rin_messages_received_total", "SQS messages received.", float64(s.Messages))
	p.counter("rin_messages_rejected_total", "SQS messages rin could not parse (kept in the journal).", float64(s.Rejected))
	p.counter("rin_messages_deleted_total", "SQS messages deleted after their jobs finished.", float64(s.MessagesDeleted))
	p.counter("rin_jobs_admitted_total", "New jobs journaled.", float64(s.JobsAdmitted))
	p.counter("rin_jobs_duplicate_total", "Deliveries mapped onto a job that already existed.", float64(s.Duplicates))
	p.counter("rin_jobs_copied_total", "Jobs whose COPY committed.", float64(s.Copied))
	p.counter("rin_jobs_acked_total", "Jobs copied and acknowledged.", float64(s.Acked))
	p.counter("rin_jobs_failed_total", "Jobs parked as failed.", float64(s.Failed))
	p.counter("rin_rows_loaded_total", "Rows loaded by COPY.", float64(s.Rows))
	p.counter("rin_rows_skipped_total", "Rows Redshift rejected under MAXERROR in COPYs that committed (partial loads; see stl_load_errors).", float64(s.RowsSkipped))
	p.counter("rin_copy_failures_total", "COPYs that failed (either kind).", float64(s.CopyFailures))
	p.counter("rin_transient_errors_total", "COPYs that failed for their environment (a held scope) or statement (retried), not for an object.", float64(s.TransientErrors))
	p.counter("rin_receive_errors_total", "Failed SQS ReceiveMessage calls.", float64(s.ReceiveErrors))
	p.counter("rin_delete_errors_total", "Failed SQS message deletions.", float64(s.DeleteErrors))
	p.gauge("rin_pending_jobs", "Jobs the engine holds as pending.", float64(s.Pending))
	p.gauge("rin_oldest_message_age_seconds", "Age (since SQS's SentTimestamp) of the oldest message rin holds undeleted; 0 when none.", s.OldestMessageAgeSeconds)
	p.gauge("rin_queue_retention_seconds", "The queue's MessageRetentionPeriod: a message older than this is deleted by SQS unread (0: unknown).", s.RetentionSeconds)

	p.family("rin_copy_duration_seconds", "histogram", "Duration of each COPY transaction.")
	for i, le := range fsm.CopyBuckets {
		p.sample("rin_copy_duration_seconds_bucket", float64(at(s.CopyDurations, i)), "le", strconv.FormatFloat(le, 'g', -1, 64))
	}
	p.sample("rin_copy_duration_seconds_bucket", float64(s.Copies), "le", "+Inf")
	p.sample("rin_copy_duration_seconds_sum", s.CopySeconds)
	p.sample("rin_copy_duration_seconds_count", float64(s.Copies))

	p.family("rin_lag_seconds", "summary", "Time from the S3 event to the job's COPY, over acked jobs.")
	p.sample("rin_lag_seconds_sum", s.LagSeconds)
	p.sample("rin_lag_seconds_count", float64(s.LagCount))

	// Held scopes: an environment fault (access denied, missing table,
	// expired credentials, read-only cluster, ...) holds its scope until it
	// heals. Every scope kind is always reported, so alerts see 0, not absence.
	count := map[string]int{}
	for _, h := range holds {
		count[h.Scope]++
	}
	p.family("rin_held_scopes", "gauge", "Scopes held behind a breaker after an environment fault, by kind (endpoint, table, credentials, bucket).")
	for _, kind := range []fsm.Scope{fsm.ScopeEndpoint, fsm.ScopeTable, fsm.ScopeCredentials, fsm.ScopeBucket} {
		p.sample("rin_held_scopes", float64(count[kind.String()]), "scope", kind.String())
	}
	p.family("rin_hold_seconds", "gauge", "How long each held scope has been held.")
	for _, h := range holds {
		p.sample("rin_hold_seconds", time.Since(h.Since).Seconds(), "scope", h.Scope, "name", h.Name)
	}
	p.family("rin_breaker_open", "gauge", "1 while an endpoint is held (kept for dashboards of earlier versions; see rin_held_scopes).")
	for _, h := range holds {
		if h.Scope == fsm.ScopeEndpoint.String() {
			p.sample("rin_breaker_open", 1, "endpoint", h.Name)
		}
	}
}

// at reads a histogram bucket; the engine allocates them on the first COPY.
func at(v []int64, i int) int64 {
	if i < len(v) {
		return v[i]
	}
	return 0
}
