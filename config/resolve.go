package config

import (
	"regexp"
	"strings"
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
