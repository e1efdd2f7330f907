package config

import (
	"fmt"
	"regexp"
)

// target applies the original Rin's merge() to targets[i] (every empty
// field takes the top-level value) plus rin's defaults, then validates the
// result. Format errors are reported at the key the target itself wrote;
// missing values at the target, since they may be set in either place.
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
	r.columnar(t, p)
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
		if b.CopyTimeout != 0 {
			r.v.add(p+".batch.copy_timeout", ErrInvalid, "copy_timeout applies to every COPY; set it in the top-level batch section")
		}
		if b.LockTimeout != 0 {
			r.v.add(p+".batch.lock_timeout", ErrInvalid, "lock_timeout applies to every COPY; set it in the top-level batch section")
		}
		b.Concurrency, b.CopyTimeout, b.LockTimeout = top.Concurrency, top.CopyTimeout, top.LockTimeout
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
