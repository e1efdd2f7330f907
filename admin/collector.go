package admin

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/journal"
)

// collector is rin's own metrics, read at scrape time: job counts from the
// journal (through jobCounter, which keeps that cheap), and the engine's
// counters, histograms and held scopes. Reading them when scraped, rather
// than mirroring every change into client-library metrics, keeps the
// engine free of Prometheus and its hot path free of extra work.
//
// Engine counters are since rin started (Prometheus handles the reset on
// restart); job counts are the journal's.
type collector struct {
	counter *jobCounter
	engine  Engine // nil: the journal alone
	version string
	log     *slog.Logger
	d       descs
}

// descs are the families' descriptions, built once per collector.
type descs struct {
	buildInfo, jobs, oldestPending, rejectedMessages *prometheus.Desc
	engine                                           []engineValue
	perTarget                                        []targetValue
	pendingJobs, oldestMessage, retention            *prometheus.Desc
	copyDuration, latency                            *prometheus.Desc
	guardWait                                        *prometheus.Desc // guard_metrics.go
	heldScopes, holdSeconds, breakerOpen             *prometheus.Desc
}

// engineValue is one unlabelled family read from the engine's Stats.
type engineValue struct {
	desc  *prometheus.Desc
	typ   prometheus.ValueType
	value func(fsm.Stats) float64
}

// targetValue is one counter family with a target label.
type targetValue struct {
	desc  *prometheus.Desc
	value func(fsm.TargetStats) float64
}

func newCollector(counter *jobCounter, eng Engine, version string, log *slog.Logger) *collector {
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	counter1 := func(name, help string, v func(fsm.Stats) int64) engineValue {
		return engineValue{desc(name, help), prometheus.CounterValue, func(s fsm.Stats) float64 { return float64(v(s)) }}
	}
	perTarget := func(name, help string, v func(fsm.TargetStats) int64) targetValue {
		return targetValue{desc(name, help, "target"), func(t fsm.TargetStats) float64 { return float64(v(t)) }}
	}
	return &collector{counter: counter, engine: eng, version: version, log: log, d: descs{
		buildInfo:        desc("rin_build_info", "Always 1; the version label is rin's build.", "version"),
		jobs:             desc("rin_jobs", "Jobs in the journal by state and target. Acked counts are recounted every few minutes; the other states on every scrape.", "state", "target"),
		oldestPending:    desc("rin_oldest_pending_job_age_seconds", "Age of the oldest pending (received, copying or copied) job; 0 when none."),
		rejectedMessages: desc("rin_rejected_messages", "SQS messages rin could not parse, kept in the journal (rin-journal rejected lists them). Recounted every few minutes."),
		engine: []engineValue{
			counter1("rin_messages_received_total", "SQS messages received.", func(s fsm.Stats) int64 { return s.Messages }),
			counter1("rin_messages_rejected_total", "SQS messages rin could not parse (kept in the journal).", func(s fsm.Stats) int64 { return s.Rejected }),
			counter1("rin_messages_deleted_total", "SQS messages deleted after their jobs finished.", func(s fsm.Stats) int64 { return s.MessagesDeleted }),
			counter1("rin_jobs_admitted_total", "New jobs journaled.", func(s fsm.Stats) int64 { return s.JobsAdmitted }),
			counter1("rin_jobs_duplicate_total", "Deliveries mapped onto a job that already existed.", func(s fsm.Stats) int64 { return s.Duplicates }),
			counter1("rin_jobs_acked_total", "Jobs copied and acknowledged.", func(s fsm.Stats) int64 { return s.Acked }),
			counter1("rin_copy_failures_total", "COPYs that failed (either kind).", func(s fsm.Stats) int64 { return s.CopyFailures }),
			counter1("rin_transient_errors_total", "COPYs that failed for their environment (a held scope) or statement (retried), not for an object.", func(s fsm.Stats) int64 { return s.TransientErrors }),
			counter1("rin_receive_errors_total", "Failed SQS ReceiveMessage calls.", func(s fsm.Stats) int64 { return s.ReceiveErrors }),
			counter1("rin_delete_errors_total", "Failed SQS message deletions.", func(s fsm.Stats) int64 { return s.DeleteErrors }),
			counter1("rin_guard_timeouts_total", "Loads that gave up waiting for their table's guard at batch.lock_timeout (retried later).", func(s fsm.Stats) int64 { return s.Guard.Timeouts }),
		},
		perTarget: []targetValue{
			perTarget("rin_jobs_copied_total", "Jobs whose COPY committed, by target.", func(t fsm.TargetStats) int64 { return t.Copied }),
			perTarget("rin_rows_loaded_total", "Rows loaded by COPY, by target.", func(t fsm.TargetStats) int64 { return t.Rows }),
			perTarget("rin_rows_skipped_total", "Rows Redshift rejected under MAXERROR in COPYs that committed (partial loads; see stl_load_errors), by target.", func(t fsm.TargetStats) int64 { return t.RowsSkipped }),
			perTarget("rin_jobs_failed_total", "Jobs parked as failed, by target.", func(t fsm.TargetStats) int64 { return t.Failed }),
			perTarget("rin_jobs_superseded_total", "Jobs not loaded because a newer version of their object loads instead (overwrites), by target.", func(t fsm.TargetStats) int64 { return t.Superseded }),
			perTarget("rin_jobs_removed_total", "Jobs not loaded because their object was deleted before its COPY, by target.", func(t fsm.TargetStats) int64 { return t.Removed }),
		},
		pendingJobs:   desc("rin_pending_jobs", "Jobs the engine holds as pending."),
		oldestMessage: desc("rin_oldest_message_age_seconds", "Age (since SQS's SentTimestamp) of the oldest message rin holds undeleted; 0 when none."),
		retention:     desc("rin_queue_retention_seconds", "The queue's MessageRetentionPeriod: a message older than this is deleted by SQS unread (0: unknown)."),
		copyDuration:  desc("rin_copy_duration_seconds", "Duration of each COPY transaction."),
		guardWait:     desc("rin_guard_wait_seconds", guardWaitHelp),
		latency:       desc("rin_load_latency_seconds", "Time from an object's S3 event to the COMMIT that loaded it, over acked jobs, by target.", "target"),
		heldScopes:    desc("rin_held_scopes", "Scopes held behind a breaker after an environment fault, by kind (endpoint, table, credentials, bucket).", "scope"),
		holdSeconds:   desc("rin_hold_seconds", "How long each held scope has been held.", "scope", "name"),
		breakerOpen:   desc("rin_breaker_open", "1 while an endpoint is held (kept for dashboards of earlier versions; see rin_held_scopes).", "endpoint"),
	}}
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	d := c.d
	for _, x := range []*prometheus.Desc{d.buildInfo, d.jobs, d.oldestPending, d.rejectedMessages, d.pendingJobs, d.oldestMessage,
		d.retention, d.copyDuration, d.latency, d.heldScopes, d.holdSeconds, d.breakerOpen, d.guardWait} {
		ch <- x
	}
	for _, v := range d.engine {
		ch <- v.desc
	}
	for _, v := range d.perTarget {
		ch <- v.desc
	}
}

// Collect implements prometheus.Collector. The registry calls it on a
// goroutine of its own, where no HTTP middleware can catch a panic: bbolt
// panics on a page it cannot parse, and that must fail the scrape, not
// kill rin.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	defer func() {
		if v := recover(); v != nil {
			err := fmt.Errorf("/metrics: %w: %v", journal.ErrCorrupt, v)
			c.log.Error("metrics could not read the journal", "err", err)
			ch <- prometheus.NewInvalidMetric(c.d.jobs, err)
		}
	}()
	now := time.Now()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(c.d.buildInfo, 1, c.version)

	counts, err := c.counter.counts(now)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.d.jobs, err)
		return
	}
	for target, states := range counts.targets {
		for _, s := range journal.States {
			gauge(c.d.jobs, float64(states[s]), string(s), target)
		}
	}
	oldest := 0.0
	if !counts.oldestPending.IsZero() {
		oldest = now.Sub(counts.oldestPending).Seconds()
	}
	gauge(c.d.oldestPending, oldest)
	gauge(c.d.rejectedMessages, float64(counts.rejected))

	if c.engine != nil {
		c.collectEngine(ch, c.engine.Stats(), c.engine.Holds(), counts, now)
	}
}

func (c *collector) collectEngine(ch chan<- prometheus.Metric, s fsm.Stats, holds []fsm.Hold, counts jobCounts, now time.Time) {
	d := c.d
	for _, v := range d.engine {
		ch <- prometheus.MustNewConstMetric(v.desc, v.typ, v.value(s))
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(d.pendingJobs, float64(s.Pending))
	gauge(d.oldestMessage, s.OldestMessageAgeSeconds)
	gauge(d.retention, s.RetentionSeconds)

	copies := s.CopyDuration
	if copies.Bounds == nil {
		copies.Bounds = fsm.CopyBuckets() // no COPY yet: zero buckets, not an absent family
	}
	ch <- prometheus.MustNewConstHistogram(d.copyDuration, copies.Count, copies.Sum, copies.Cumulative())
	ch <- guardWaitHistogram(d.guardWait, s.Guard)

	// Every target that has a job in the journal or a count in the engine
	// gets every per-target series, 0 included: an alert on increase()
	// sees a new series start from 0 instead of missing its first step.
	perTarget := func(name string, t fsm.TargetStats) {
		for _, v := range d.perTarget {
			ch <- prometheus.MustNewConstMetric(v.desc, prometheus.CounterValue, v.value(t), name)
		}
		lat := t.Latency
		if lat.Bounds == nil {
			lat.Bounds = fsm.LatencyBuckets()
		}
		ch <- prometheus.MustNewConstHistogram(d.latency, lat.Count, lat.Sum, lat.Cumulative(), name)
	}
	for name, t := range s.Targets {
		perTarget(name, t)
	}
	for name := range counts.targets {
		if _, ok := s.Targets[name]; !ok {
			perTarget(name, fsm.TargetStats{})
		}
	}

	// Held scopes: an environment fault (access denied, missing table,
	// expired credentials, read-only cluster, ...) holds its scope until it
	// heals. Every scope kind is always reported, so alerts see 0, not absence.
	held := map[string]int{}
	for _, h := range holds {
		held[h.Scope]++
		gauge(d.holdSeconds, now.Sub(h.Since).Seconds(), h.Scope, h.Name)
		if h.Scope == fsm.ScopeEndpoint.String() {
			gauge(d.breakerOpen, 1, h.Name)
		}
	}
	for _, kind := range []fsm.Scope{fsm.ScopeEndpoint, fsm.ScopeTable, fsm.ScopeCredentials, fsm.ScopeBucket} {
		gauge(d.heldScopes, float64(held[kind.String()]), kind.String())
	}
}
