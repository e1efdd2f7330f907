package config

import (
	"fmt"
	"strconv"
	"strings"
)

// Route is one target an object is to be loaded into (or discarded by),
// with every value resolved for that object.
type Route struct {
	Index   int    // target index in the config
	Name    string // "targets[2]"
	Discard bool   // matched a discard target: load nothing, acknowledge
	Break   bool   // the target had break: true (informational)

	Schema    string // after $N expansion and fallback; "" = unqualified (Redshift's search_path)
	Table     string // after $N expansion and fallback
	SQLOption string
	Redshift  Redshift // after fallback and defaults
	S3        S3       // after fallback (Region goes in COPY's REGION)
	Batch     Batch    // after fallback and defaults

	// UseManifest: load through a manifest written by rin (exact keys,
	// several objects per COPY). False when manifest.disabled is set or
	// the target's sql_option already says MANIFEST (its objects are
	// themselves manifests); Batch.MaxFiles is then 1.
	UseManifest bool

	// Err is set when this object cannot be loaded by this target (a
	// capture expanded to an unusable identifier). It fails this job
	// only; the other routes of the object are unaffected.
	Err error
}

// Route returns every target the object s3://bucket/key goes to, in config
// order: all matching targets, stopping after a target with break: true,
// and stopping at a discard target (which is included, with Discard set,
// so the caller can tell "discarded" from "matched nothing"). An object
// matching no target yields an empty slice; the caller logs a warning.
//
// Objects under rin's own manifest prefix are never routed: rin writes
// them into the data bucket, and a broad key_regexp would otherwise load a
// manifest as data.
func (c *Config) Route(bucket, key string) []Route {
	if c.IsManifestKey(bucket, key) {
		return nil
	}
	var routes []Route
	for i := range c.Targets {
		t := &c.Targets[i]
		caps, ok := t.match(bucket, key)
		if !ok {
			continue
		}
		r := Route{
			Index: t.index, Name: t.Name(), Discard: t.Discard, Break: t.Break,
			SQLOption: t.SQLOption, Redshift: t.Redshift, S3: t.S3,
			UseManifest: t.useManifest,
		}
		if t.Batch != nil {
			r.Batch = *t.Batch
		}
		if t.Discard {
			return append(routes, r)
		}
		r.Schema, r.Table, r.Err = t.tableFor(bucket, key, caps)
		r.Redshift.Schema, r.Redshift.Table = r.Schema, r.Table
		routes = append(routes, r)
		if t.Break {
			break
		}
	}
	return routes
}

// IsManifestKey reports whether bucket/key is where rin writes manifests.
func (c *Config) IsManifestKey(bucket, key string) bool {
	m := c.Manifest
	return !m.Disabled && m.Prefix != "" && strings.HasPrefix(key, m.Prefix) &&
		(m.Bucket == "" || m.Bucket == bucket)
}

// match is the original Rin's matcher: bucket equal, then key_prefix
// (strings.HasPrefix; the capture list is just the key, so $0 is the key)
// or key_regexp (FindStringSubmatch; $0 is the whole match).
func (t *Target) match(bucket, key string) ([]string, bool) {
	if bucket != t.S3.Bucket {
		return nil, false
	}
	if t.re == nil {
		if strings.HasPrefix(key, t.S3.KeyPrefix) {
			return []string{key}, true
		}
		return nil, false
	}
	caps := t.re.FindStringSubmatch(key)
	return caps, caps != nil
}

func (t *Target) tableFor(bucket, key string, caps []string) (schema, table string, err error) {
	schema = expand(t.Redshift.Schema, caps)
	table = expand(t.Redshift.Table, caps)
	if t.Redshift.Schema != "" {
		if p := identifierProblem(schema); p != "" {
			return schema, table, t.identErr("schema", t.Redshift.Schema, schema, bucket, key, p)
		}
	}
	if p := identifierProblem(table); p != "" {
		return schema, table, t.identErr("table", t.Redshift.Table, table, bucket, key, p)
	}
	return schema, table, nil
}

func (t *Target) identErr(field, tmpl, got, bucket, key, problem string) error {
	return fmt.Errorf("%s.redshift.%s: %w: %q expanded to %q for s3://%s/%s: %s",
		t.Name(), field, ErrIdentifier, tmpl, truncate(got, 160), bucket, truncate(key, 512), problem)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// scanRefs returns the capture numbers referred to in s.
//
// $ followed by one digit is a reference to that group — one digit only,
// as in the original Rin, whose replacement of "$1" before "$10" made
// "$12" mean group 1 then "2". ${N} refers to any group, and is the way to
// write group 10 and above or a group followed by a digit. A $ not
// followed by a digit or {digits} is literal (Redshift names may contain $).
func scanRefs(s string) []int {
	var refs []int
	for i := 0; i < len(s); i++ {
		if n, width := refAt(s, i); width > 0 {
			refs = append(refs, n)
			i += width - 1
		}
	}
	return refs
}

// expand replaces references with captures in one pass (captures are data:
// a "$2" inside a captured value is not expanded again, unlike the
// original). References beyond caps expand to "".
func expand(s string, caps []string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		n, width := refAt(s, i)
		if width == 0 {
			b.WriteByte(s[i])
			continue
		}
		if n < len(caps) {
			b.WriteString(caps[n])
		}
		i += width - 1
	}
	return b.String()
}

// refAt parses a reference at s[i]: it returns the group number and the
// length of the reference, or width 0 when s[i] does not start one.
func refAt(s string, i int) (n, width int) {
	if s[i] != '$' || i+1 >= len(s) {
		return 0, 0
	}
	if c := s[i+1]; c >= '0' && c <= '9' {
		return int(c - '0'), 2
	}
	if s[i+1] != '{' {
		return 0, 0
	}
	end := strings.IndexByte(s[i+2:], '}')
	if end <= 0 || !isDigits(s[i+2:i+2+end]) || end > 4 {
		return 0, 0
	}
	n, _ = strconv.Atoi(s[i+2 : i+2+end])
	return n, end + 3
}
