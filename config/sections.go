package config

import (
	"strings"
	"time"
)

// sections defaults and checks rin's own top-level sections.
func (r *resolver) sections() {
	c, v := r.c, r.v

	if c.Journal.Path == "" {
		c.Journal.Path = DefaultJournalPath
	}
	v.duration("journal.retention", c.Journal.Retention, Duration(time.Minute), 0, false)
	def(&c.Journal.Retention, DefaultJournalRetention)

	rt := &c.Retry
	v.duration("retry.initial_interval", rt.InitialInterval, Duration(time.Millisecond), 0, false)
	v.duration("retry.max_interval", rt.MaxInterval, Duration(time.Millisecond), 0, false)
	v.duration("retry.max_elapsed", rt.MaxElapsed, 0, 0, false)
	v.positive("retry.max_attempts", int64(rt.MaxAttempts), "")
	if rt.Multiplier != 0 && rt.Multiplier < 1 {
		v.add("retry.multiplier", ErrInvalid, "%g is below 1 (intervals would shrink)", rt.Multiplier)
	}
	def(&rt.InitialInterval, DefaultRetryInitial)
	def(&rt.MaxInterval, DefaultRetryMax)
	def(&rt.Multiplier, DefaultRetryMultiplier)
	def(&rt.MaxAttempts, DefaultRetryMaxAttempts)
	if rt.MaxInterval > 0 && rt.InitialInterval > rt.MaxInterval {
		v.add("retry.max_interval", ErrInvalid, "%s is below retry.initial_interval %s", rt.MaxInterval, rt.InitialInterval)
	}

	rc := &c.Receive
	v.positive("receive.receivers", int64(rc.Receivers), "")
	v.positive("receive.max_pending", int64(rc.MaxPending), "")
	if rc.MaxMessages < 0 || rc.MaxMessages > SQSMaxMessages {
		v.add("receive.max_messages", ErrInvalid, "%d is out of range: SQS returns 1 to %d messages per call", rc.MaxMessages, SQSMaxMessages)
	}
	v.duration("receive.wait_time", rc.WaitTime, Duration(time.Second), SQSMaxWaitTime, true)
	v.duration("receive.visibility_timeout", rc.VisibilityTimeout, Duration(time.Second), Duration(12*time.Hour), true)
	def(&rc.Receivers, DefaultReceivers)
	def(&rc.MaxMessages, DefaultMaxMessages)
	def(&rc.WaitTime, DefaultWaitTime)
	def(&rc.VisibilityTimeout, DefaultVisibility)
	def(&rc.MaxPending, DefaultMaxPending)

	lg := &c.Ledger
	def(&lg.Schema, DefaultLedgerSchema)
	def(&lg.Table, DefaultLedgerTable)
	v.staticIdentifier("ledger.schema", lg.Schema)
	v.staticIdentifier("ledger.table", lg.Table)
	// Rows younger than the journal's retention plus SQS's may still be
	// asked about by a redelivered event: pruning them could load twice.
	minKeep := c.Journal.Retention + SQSMaxRetention
	if lg.Retention != 0 && lg.Retention < minKeep {
		v.add("ledger.retention", ErrInvalid, "%s is below journal.retention + 14d (%s): a redelivered event could load again", lg.Retention, minKeep)
	}
	def(&lg.Retention, minKeep)
	v.duration("ledger.prune_interval", lg.PruneInterval, Duration(time.Second), 0, false)
	def(&lg.PruneInterval, DefaultPruneInterval)

	mf := &c.Manifest
	v.bucket("manifest.bucket", mf.Bucket)
	if strings.HasPrefix(mf.Prefix, "/") {
		v.add("manifest.prefix", ErrInvalid, "%q: S3 keys do not start with /", mf.Prefix)
	}
	def(&mf.Prefix, DefaultManifestPrefix)
	switch {
	case mf.KMSKeyID != "" && mf.SSE == "":
		mf.SSE = "aws:kms"
	case mf.KMSKeyID != "" && mf.SSE != "aws:kms":
		v.add("manifest.kms_key_id", ErrInvalid, "a KMS key goes with sse: aws:kms, not %q", mf.SSE)
	case mf.SSE != "" && mf.SSE != "AES256" && mf.SSE != "aws:kms":
		v.add("manifest.sse", ErrInvalid, "%q: use AES256 or aws:kms", mf.SSE)
	}

	switch c.Overwrites {
	case "":
		c.Overwrites = OverwritesLoad
	case OverwritesLoad, OverwritesSkip, OverwritesUnchecked:
	default:
		v.add("overwrites", ErrInvalid, "%q: use %s, %s or %s", c.Overwrites, OverwritesLoad, OverwritesSkip, OverwritesUnchecked)
	}

	b := &c.Batch
	r.batchValues("batch", b)
	if b.Concurrency < 0 {
		v.add("batch.concurrency", ErrInvalid, "%d is negative (leave it unset for the default)", b.Concurrency)
	}
	def(&b.MaxFiles, DefaultBatchMaxFiles)
	def(&b.MaxBytes, DefaultBatchMaxBytes)
	def(&b.MaxAge, DefaultBatchMaxAge)
	def(&b.Concurrency, DefaultBatchConcurrency)
	v.duration("batch.copy_timeout", b.CopyTimeout, 0, Duration(24*time.Hour), false)
	def(&b.CopyTimeout, DefaultCopyTimeout)
	v.duration("batch.lock_timeout", b.LockTimeout, Duration(time.Second), Duration(24*time.Hour), false)
	def(&b.LockTimeout, DefaultLockTimeout)

	ad := &c.Admin
	if ad.Socket == "" {
		// Named after the journal, so two rin processes with their own
		// journals in one directory get their own sockets.
		ad.Socket = strings.TrimSuffix(strings.TrimSuffix(c.Journal.Path, ".db"), ".journal") + ".sock"
	}
	// sun_path is 108 bytes on Linux (104 on macOS), including the NUL.
	if !ad.Disabled && len(ad.Socket) > 103 {
		v.add("admin.socket", ErrInvalid, "%q is %d bytes; unix socket paths must be under 104 (use a shorter or relative path)", ad.Socket, len(ad.Socket))
	}
	v.loopback("admin.addr", ad.Addr)
}

func (r *resolver) batchValues(path string, b *Batch) {
	r.v.positive(path+".max_files", int64(b.MaxFiles), "")
	r.v.positive(path+".max_bytes", b.MaxBytes, " bytes")
	r.v.duration(path+".max_age", b.MaxAge, 0, Duration(time.Hour), false)
}

// def sets *p to d when it is the zero value: unset and 0 both mean "the
// default" for every number in rin's own sections.
func def[T comparable](p *T, d T) {
	var zero T
	if *p == zero {
		*p = d
	}
}
