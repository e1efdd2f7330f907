package config

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// resolver applies defaults and fallback and validates, in the order that
// lets each step rely on the previous one: the top-level sections first
// (targets inherit from them), then each target.
type resolver struct {
	c        *Config
	v        *validator
	o        options
	warn     func(string)
	presence presence
	topRe    *regexp.Regexp
}

func (r *resolver) run() {
	c, v := r.c, r.v
	if c.QueueName == "" && !r.o.queueOptional {
		v.add("queue_name", ErrRequired, "the SQS queue to read S3 events from")
	}
	if len(c.Targets) == 0 {
		v.add("targets", ErrRequired, "at least one target is needed (targets: - s3: {key_prefix: ...} redshift: {table: ...})")
	}
	r.credentials()
	r.topRedshift()
	r.topS3()
	r.sections()
	for i := range c.Targets {
		r.target(i)
	}
}

func (r *resolver) credentials() {
	cr := r.c.Credentials
	if cr.AWSAccessKeyID != "" && cr.AWSSecretAccessKey == "" {
		r.v.add("credentials.aws_secret_access_key", ErrRequired, "aws_access_key_id is set, so its secret key is needed too")
	}
	if cr.AWSAccessKeyID == "" && cr.AWSSecretAccessKey != "" {
		r.warn("credentials.aws_secret_access_key is set without aws_access_key_id and is ignored")
	}
}

func (r *resolver) topRedshift() {
	rs, v := &r.c.Redshift, r.v
	v.driver("redshift.driver", rs.Driver)
	v.sslMode("redshift.sslmode", rs.SSLMode)
	v.port("redshift.port", rs.Port)
	v.staticIdentifier("redshift.schema", rs.Schema)
	v.staticIdentifier("redshift.table", rs.Table)
	if rs.Driver == "" {
		rs.Driver = DriverPostgres
	}
	if rs.SSLMode == "" {
		rs.SSLMode = DefaultSSLMode
		if env, ok := r.o.lookupEnv("PGSSLMODE"); ok && env != "" {
			if !validSSLMode(env) {
				v.add("", ErrInvalid, "PGSSLMODE=%q (used because redshift.sslmode is unset): want one of %s", env, strings.Join(sslModes, ", "))
			}
			rs.SSLMode = env
		}
	}
	if rs.Port == 0 && rs.Driver == DriverPostgres {
		rs.Port = DefaultPort
	}
}

func (r *resolver) topS3() {
	s, v := r.c.S3, r.v
	v.bucket("s3.bucket", s.Bucket)
	if s.KeyRegexp != "" {
		re, err := regexp.Compile(s.KeyRegexp)
		if err != nil {
			v.add("s3.key_regexp", ErrRegexp, "%v", err)
		}
		r.topRe = re
	}
	if s.KeyPrefix != "" && s.KeyRegexp != "" {
		r.warn("s3 sets both key_prefix and key_regexp: key_prefix is used and key_regexp ignored (as in the original Rin)")
	}
}

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
	if rc.MaxMessages < 0 || rc.MaxMessages > 10 {
		v.add("receive.max_messages", ErrInvalid, "%d is out of range: SQS returns 1 to 10 messages per call", rc.MaxMessages)
	}
	v.duration("receive.wait_time", rc.WaitTime, Duration(time.Second), Duration(20*time.Second), true)
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

	mf := &c.Manifest
	v.bucket("manifest.bucket", mf.Bucket)
	if strings.HasPrefix(mf.Prefix, "/") {
		v.add("manifest.prefix", ErrInvalid, "%q: S3 keys do not start with /", mf.Prefix)
	}
	def(&mf.Prefix, DefaultManifestPrefix)

	b := &c.Batch
	r.batchValues("batch", b)
	if b.Concurrency < 0 {
		v.add("batch.concurrency", ErrInvalid, "%d is negative (leave it unset for the default)", b.Concurrency)
	}
	def(&b.MaxFiles, DefaultBatchMaxFiles)
	def(&b.MaxBytes, DefaultBatchMaxBytes)
	def(&b.MaxAge, DefaultBatchMaxAge)
	def(&b.Concurrency, DefaultBatchConcurrency)

	ad := &c.Admin
	if ad.Socket == "" {
		ad.Socket = filepath.Join(filepath.Dir(c.Journal.Path), DefaultAdminSocket)
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

func (r *resolver) target(i int) {
	c, v := r.c, r.v
	t := &c.Targets[i]
	t.index = i
	p := targetPath(i)
	own := *t // as written, before fallback
	top := c.Redshift

	v.driver(p+".redshift.driver", own.Redshift.Driver)
	v.sslMode(p+".redshift.sslmode", own.Redshift.SSLMode)
	v.port(p+".redshift.port", own.Redshift.Port)
	v.bucket(p+".s3.bucket", own.S3.Bucket)
	v.staticIdentifier(p+".redshift.schema", own.Redshift.Schema)
	v.staticIdentifier(p+".redshift.table", own.Redshift.Table)

	// Redshift: every empty field falls back to the top level.
	rs := &t.Redshift
	def(&rs.Driver, top.Driver)
	def(&rs.Host, top.Host)
	def(&rs.DBName, top.DBName)
	def(&rs.User, top.User)
	def(&rs.Password, top.Password)
	def(&rs.Schema, top.Schema)
	def(&rs.Table, top.Table)
	def(&rs.Cluster, top.Cluster)
	def(&rs.Workgroup, top.Workgroup)
	def(&rs.SSLMode, top.SSLMode)
	if i < len(r.presence.targetReconnect) && r.presence.targetReconnect[i] != nil {
		rs.ReconnectOnError = *r.presence.targetReconnect[i]
	} else {
		rs.ReconnectOnError = top.ReconnectOnError
	}
	if rs.Port == 0 && rs.Driver == DriverPostgres {
		rs.Port = top.Port
		def(&rs.Port, DefaultPort)
	}
	def(&t.SQLOption, c.SQLOption)

	// S3: bucket and region fall back field by field; the key matcher
	// falls back as a whole (see matcher).
	def(&t.S3.Bucket, c.S3.Bucket)
	def(&t.S3.Region, c.S3.Region)
	r.matcher(t, p)

	if t.S3.Bucket == "" {
		v.add(p+".s3.bucket", ErrRequired, "set s3.bucket in the target or at the top level")
	}
	if !t.Discard {
		r.endpoint(t, p)
		r.tableRefs(t, p)
	}
	r.targetBatch(t, p)
}

// matcher picks the target's key matcher. A target that sets neither
// key_prefix nor key_regexp inherits the top level's. When both are set,
// key_prefix wins, as in the original Rin. rin differs from the original
// in one case: a target with its own key_regexp does not inherit a
// top-level key_prefix (the original then silently used the prefix and
// ignored the target's regexp).
func (r *resolver) matcher(t *Target, p string) {
	s := &t.S3
	ownPrefix, ownRegexp := s.KeyPrefix, s.KeyRegexp
	var re *regexp.Regexp
	if ownRegexp != "" {
		var err error
		if re, err = regexp.Compile(ownRegexp); err != nil {
			r.v.add(p+".s3.key_regexp", ErrRegexp, "%v", err)
		}
	}
	if ownPrefix == "" && ownRegexp == "" {
		s.KeyPrefix, s.KeyRegexp, re = r.c.S3.KeyPrefix, r.c.S3.KeyRegexp, r.topRe
	} else if ownRegexp != "" && ownPrefix == "" && r.c.S3.KeyPrefix != "" {
		r.warn(fmt.Sprintf("%s.s3.key_regexp is used and the top-level s3.key_prefix is not inherited (the original Rin used the prefix here and ignored the regexp)", p))
	}
	switch {
	case s.KeyPrefix != "":
		if ownPrefix != "" && ownRegexp != "" {
			r.warn(fmt.Sprintf("%s.s3 sets both key_prefix and key_regexp: key_prefix is used and key_regexp ignored (as in the original Rin)", p))
		}
		t.re = nil
	case s.KeyRegexp != "":
		t.re = re
	default:
		r.v.add(p+".s3", ErrRequired, "key_prefix or key_regexp is needed to select objects (in the target or at the top level)")
	}
}

func (r *resolver) endpoint(t *Target, p string) {
	rs := t.Redshift
	switch rs.Driver {
	case DriverPostgres:
		if rs.Host == "" {
			r.v.add(p+".redshift.host", ErrRequired, "the postgres driver needs redshift.host (in the target or at the top level)")
		}
	case DriverRedshiftData:
		if rs.Cluster == "" && rs.Workgroup == "" {
			r.v.add(p+".redshift", ErrRequired, "the redshift-data driver needs cluster (provisioned, with user) or workgroup (serverless)")
		}
	}
}

// tableRefs refuses, at load time, $N that can never expand: a prefix
// matcher has only $0 (the key), and a regexp has NumSubexp groups.
func (r *resolver) tableRefs(t *Target, p string) {
	if t.Redshift.Table == "" {
		r.v.add(p+".redshift.table", ErrRequired, "set redshift.table in the target or at the top level")
	}
	for _, f := range []struct{ name, val string }{{"schema", t.Redshift.Schema}, {"table", t.Redshift.Table}} {
		for _, n := range scanRefs(f.val) {
			field := p + ".redshift." + f.name
			switch {
			case t.re == nil && n > 0 && t.S3.KeyPrefix != "":
				r.v.add(field, ErrCapture, "%q uses $%d but the target matches by key_prefix, which has no capture groups (use key_regexp)", f.val, n)
			case t.re != nil && n > t.re.NumSubexp():
				r.v.add(field, ErrCapture, "%q uses $%d but key_regexp %q has %d capture group(s)", f.val, n, t.S3.KeyRegexp, t.re.NumSubexp())
			}
		}
	}
}

func (r *resolver) targetBatch(t *Target, p string) {
	top := r.c.Batch
	if t.Batch == nil {
		b := top
		t.Batch = &b
	} else {
		b := *t.Batch
		r.batchValues(p+".batch", &b)
		if b.Concurrency != 0 {
			r.v.add(p+".batch.concurrency", ErrInvalid, "concurrency is per Redshift endpoint; set it in the top-level batch section")
		}
		def(&b.MaxFiles, top.MaxFiles)
		def(&b.MaxBytes, top.MaxBytes)
		def(&b.MaxAge, top.MaxAge)
		b.Concurrency = top.Concurrency
		t.Batch = &b
	}
	t.useManifest = !r.c.Manifest.Disabled
	if mentionsManifest(t.SQLOption) {
		t.useManifest = false
		r.warn(fmt.Sprintf("%s: sql_option contains MANIFEST, so its objects are loaded as manifests, one per COPY, without rin's own manifest", p))
	}
	if !t.useManifest {
		t.Batch.MaxFiles = 1 // without a manifest one COPY loads one key
	}
}

var (
	sqlLiteral   = regexp.MustCompile(`'(?:[^']|'')*'`)
	manifestWord = regexp.MustCompile(`(?i)\bMANIFEST\b`)
)

// mentionsManifest reports whether a COPY option text has the MANIFEST
// keyword outside string literals.
func mentionsManifest(sqlOption string) bool {
	return manifestWord.MatchString(sqlLiteral.ReplaceAllString(sqlOption, "''"))
}
