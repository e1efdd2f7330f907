package config

import (
	"fmt"
	"net"
	"strings"
	"unicode"
	"unicode/utf8"
)

// validator collects every problem in one pass, so a person fixes a
// config in one edit rather than one error per run.
type validator struct {
	source string
	lines  lines
	errs   []error
}

func (v *validator) add(field string, err error, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{
		Source: v.source, Line: v.lines.line(field), Field: field, Err: err,
		Detail: fmt.Sprintf(format, args...),
	})
}

// has reports whether field was written in the file.
func (v *validator) has(field string) bool { _, ok := v.lines[field]; return ok }

var sslModes = []string{"disable", "require", "verify-ca", "verify-full"}

func (v *validator) driver(field, s string) {
	if s != "" && s != DriverPostgres && s != DriverRedshiftData {
		v.add(field, ErrInvalid, "unknown driver %q (want %q or %q)", s, DriverPostgres, DriverRedshiftData)
	}
}

// sslMode accepts the modes both lib/pq and pgx implement; lib/pq rejects
// allow and prefer at connect time, so they are refused here instead.
func (v *validator) sslMode(field, s string) {
	if s != "" && !validSSLMode(s) {
		v.add(field, ErrInvalid, "unknown sslmode %q (want one of %s)", s, strings.Join(sslModes, ", "))
	}
}

func validSSLMode(s string) bool {
	for _, m := range sslModes {
		if s == m {
			return true
		}
	}
	return false
}

func (v *validator) port(field string, p int) {
	if p < 0 || p > 65535 {
		v.add(field, ErrInvalid, "port %d is out of range (1-65535; 0 or unset means %d)", p, DefaultPort)
	}
}

func (v *validator) bucket(field, b string) {
	if strings.Contains(b, "/") {
		v.add(field, ErrInvalid, "%q: give the bucket name only, without s3:// or a path", b)
	}
}

// staticIdentifier checks a schema or table name that has no $N in it
// (names with captures are checked per object, in Route).
func (v *validator) staticIdentifier(field, s string) {
	if s == "" || len(scanRefs(s)) > 0 {
		return
	}
	if p := identifierProblem(s); p != "" {
		v.add(field, ErrIdentifier, "%q: %s", s, p)
	}
}

func (v *validator) positive(field string, n int64, unit string) {
	if n < 0 {
		v.add(field, ErrInvalid, "%d%s is negative (leave it unset for the default)", n, unit)
	}
}

func (v *validator) duration(field string, d Duration, lo, hi Duration, wholeSeconds bool) {
	switch {
	case d < 0:
		v.add(field, ErrInvalid, "%s is negative (leave it unset for the default)", d)
	case d != 0 && d < lo:
		v.add(field, ErrInvalid, "%s is below the minimum %s", d, lo)
	case hi > 0 && d > hi:
		v.add(field, ErrInvalid, "%s is above the maximum %s", d, hi)
	case wholeSeconds && d.D()%1e9 != 0:
		v.add(field, ErrInvalid, "%s: SQS takes whole seconds", d)
	}
}

// loopback refuses admin addresses reachable from other hosts: the admin
// interface has no authentication.
func (v *validator) loopback(field, addr string) {
	if addr == "" {
		return
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		v.add(field, ErrInvalid, "%q: %v (want host:port, e.g. 127.0.0.1:7410)", addr, err)
		return
	}
	if host == "localhost" {
		return
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		v.add(field, ErrInvalid, "%q is not a loopback address; the admin interface has no authentication, so bind it to 127.0.0.1 or [::1]", addr)
	}
}

// maxIdentifier is Redshift's limit on identifier length, in bytes.
const maxIdentifier = 127

// identifierProblem explains why Redshift would refuse s as a schema or
// table name, or returns "". Quotes, dots and semicolons are not problems:
// the loader quotes identifiers, so they are data.
func identifierProblem(s string) string {
	switch {
	case s == "":
		return "empty identifier"
	case len(s) > maxIdentifier:
		return fmt.Sprintf("identifier is %d bytes, longer than Redshift's %d", len(s), maxIdentifier)
	case !utf8.ValidString(s):
		return "identifier is not valid UTF-8"
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Sprintf("identifier contains control character %U", r)
		}
	}
	return ""
}
