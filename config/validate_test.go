package config

import (
	"errors"
	"strings"
	"testing"
)

func TestValidationErrors(t *testing.T) {
	const target = "targets: [{redshift: {table: t}, s3: {key_prefix: p/}}]\n"
	tests := []struct {
		name string
		src  string
		want error
		msgs []string // all must appear in the message
	}{
		{"unknown top-level key", base + "queue_nmae: x\n" + target, ErrUnknownKey,
			[]string{"test.yaml:12:", `"queue_nmae"`, `did you mean "queue_name"`}},
		{"unknown nested key", base + "targets:\n  - redshift: {table: t}\n    s3:\n      key_prefx: a/\n", ErrUnknownKey,
			[]string{"test.yaml:15:", "targets[0].s3.key_prefx", `did you mean "key_prefix"`, "valid keys: bucket, key_prefix, key_regexp, region"}},
		{"bad type", base + "receive: {max_messages: lots}\n" + target, ErrInvalid,
			[]string{"test.yaml:12:", "receive.max_messages", "cannot unmarshal"}},
		{"bad duration", base + "receive: {wait_time: soon}\n" + target, ErrInvalid,
			[]string{"test.yaml:12:", "receive.wait_time", `"soon"`}},
		{"duplicate key", base + "queue_name: again\n" + target, ErrSyntax, []string{"duplicate key"}},
		{"yaml syntax", "queue_name: [\n", ErrSyntax, []string{"test.yaml"}},
		{"empty", "# nothing\n", ErrEmpty, nil},
		{"not a mapping", "- a\n- b\n", ErrSyntax, []string{"mapping"}},
		{"missing queue_name", strings.Replace(base, "queue_name: q", "", 1) + target, ErrRequired, []string{"queue_name: required"}},
		{"no targets", base, ErrRequired, []string{"targets: required"}},
		{"invalid regexp", base + "targets: [{redshift: {table: t}, s3: {key_regexp: 'a(b'}}]\n", ErrRegexp,
			[]string{"targets[0].s3.key_regexp", "missing closing )"}},
		{"invalid top regexp", "queue_name: q\nredshift: {host: h}\ns3: {bucket: b, key_regexp: '('}\ntargets: [{redshift: {table: t}}]\n", ErrRegexp,
			[]string{"test.yaml:3:", "s3.key_regexp"}},
		{"capture out of range", base + "targets:\n  - redshift: {schema: $1, table: $3}\n    s3: {key_regexp: '^(a)/(b)'}\n", ErrCapture,
			[]string{"targets[0].redshift.table", "$3", "2 capture group(s)"}},
		{"braced capture out of range", base + "targets: [{redshift: {table: 't${12}'}, s3: {key_regexp: '(a)'}}]\n", ErrCapture, []string{"$12"}},
		{"capture without regexp", base + "targets: [{redshift: {table: $1}, s3: {key_prefix: p/}}]\n", ErrCapture,
			[]string{"targets[0].redshift.table", "key_prefix", "use key_regexp"}},
		{"no key matcher", base + "targets: [{redshift: {table: t}}]\n", ErrRequired, []string{"targets[0].s3", "key_prefix or key_regexp"}},
		{"missing host", strings.Replace(base, "host: rs.example.com", "", 1) + target, ErrRequired,
			[]string{"targets[0].redshift.host", "postgres"}},
		{"missing cluster/workgroup", base + "targets: [{redshift: {driver: redshift-data, table: t}, s3: {key_prefix: p/}}]\n", ErrRequired,
			[]string{"targets[0].redshift", "cluster", "workgroup"}},
		{"unknown driver", base + "targets: [{redshift: {driver: mysql, table: t}, s3: {key_prefix: p/}}]\n", ErrInvalid,
			[]string{"targets[0].redshift.driver", `"mysql"`}},
		{"unknown sslmode", base + "targets: [{redshift: {sslmode: prefer, table: t}, s3: {key_prefix: p/}}]\n", ErrInvalid,
			[]string{"targets[0].redshift.sslmode", `"prefer"`}},
		{"missing bucket", strings.Replace(base, "bucket: b", "", 1) + target, ErrRequired, []string{"targets[0].s3.bucket"}},
		{"bucket url", base + "targets: [{redshift: {table: t}, s3: {bucket: 's3://b', key_prefix: p/}}]\n", ErrInvalid,
			[]string{"targets[0].s3.bucket", "without s3://"}},
		{"missing table", base + "targets: [{s3: {key_prefix: p/}}]\n", ErrRequired, []string{"targets[0].redshift.table"}},
		{"long table", base + "targets: [{redshift: {table: " + strings.Repeat("t", 128) + "}, s3: {key_prefix: p/}}]\n", ErrIdentifier,
			[]string{"targets[0].redshift.table", "127"}},
		{"port range", base + "targets: [{redshift: {port: 70000, table: t}, s3: {key_prefix: p/}}]\n", ErrInvalid, []string{"targets[0].redshift.port"}},
		{"max_messages", base + "receive: {max_messages: 11}\n" + target, ErrInvalid, []string{"receive.max_messages", "1 to 10"}},
		{"manifest sse", base + "manifest: {sse: DES}\n" + target, ErrInvalid, []string{"manifest.sse", `"DES"`, "AES256 or aws:kms"}},
		{"overwrites", base + "overwrites: sometimes\n" + target, ErrInvalid, []string{"test.yaml:12:", "overwrites", `"sometimes"`, "load, skip or unchecked"}},
		{"manifest kms with AES256", base + "manifest: {sse: AES256, kms_key_id: k}\n" + target, ErrInvalid, []string{"manifest.kms_key_id", "aws:kms"}},
		{"wait_time", base + "receive: {wait_time: 21s}\n" + target, ErrInvalid, []string{"receive.wait_time", "maximum 20s"}},
		{"wait_time fraction", base + "receive: {wait_time: 1500ms}\n" + target, ErrInvalid, []string{"whole seconds"}},
		{"negative receivers", base + "receive: {receivers: -1}\n" + target, ErrInvalid, []string{"receive.receivers", "negative"}},
		{"negative retention", base + "journal: {retention: -1d}\n" + target, ErrInvalid, []string{"journal.retention"}},
		{"multiplier", base + "retry: {multiplier: 0.5}\n" + target, ErrInvalid, []string{"retry.multiplier"}},
		{"max below initial", base + "retry: {initial_interval: 10m, max_interval: 1m}\n" + target, ErrInvalid, []string{"retry.max_interval"}},
		{"negative max_attempts", base + "retry: {max_attempts: -2}\n" + target, ErrInvalid, []string{"retry.max_attempts"}},
		{"target concurrency", base + "targets: [{redshift: {table: t}, s3: {key_prefix: p/}, batch: {concurrency: 3}}]\n", ErrInvalid,
			[]string{"targets[0].batch.concurrency", "top-level"}},
		{"negative batch", base + "batch: {max_bytes: -1}\n" + target, ErrInvalid, []string{"batch.max_bytes"}},
		{"target copy_timeout", base + "targets: [{redshift: {table: t}, s3: {key_prefix: p/}, batch: {copy_timeout: 5m}}]\n", ErrInvalid,
			[]string{"targets[0].batch.copy_timeout", "top-level"}},
		{"copy_timeout range", base + "batch: {copy_timeout: 48h}\n" + target, ErrInvalid, []string{"batch.copy_timeout"}},
		{"target lock_timeout", base + "targets: [{redshift: {table: t}, s3: {key_prefix: p/}, batch: {lock_timeout: 5m}}]\n", ErrInvalid,
			[]string{"targets[0].batch.lock_timeout", "top-level"}},
		{"lock_timeout range", base + "batch: {lock_timeout: 100ms}\n" + target, ErrInvalid, []string{"batch.lock_timeout", "minimum 1s"}},
		{"ledger retention below the window", base + "journal: {retention: 2d}\nledger: {retention: 15d}\n" + target, ErrInvalid,
			[]string{"ledger.retention", "journal.retention + 14d (16d)"}},
		{"prune_interval", base + "ledger: {prune_interval: 10ms}\n" + target, ErrInvalid, []string{"ledger.prune_interval"}},
		{"admin not loopback", base + "admin: {addr: '0.0.0.0:7410'}\n" + target, ErrInvalid, []string{"admin.addr", "loopback"}},
		{"admin bad addr", base + "admin: {addr: 'nope'}\n" + target, ErrInvalid, []string{"admin.addr"}},
		{"ledger identifier", base + "ledger: {table: \"a\\x01b\"}\n" + target, ErrIdentifier, []string{"ledger.table", "control"}},
		{"secret missing", base + "credentials: {aws_access_key_id: AKIAEXAMPLE}\n" + target, ErrRequired, []string{"credentials.aws_secret_access_key"}},
		{"manifest prefix", base + "manifest: {prefix: /m/}\n" + target, ErrInvalid, []string{"manifest.prefix"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.src), "test.yaml", noEnv)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("error %q is not %v", err, tt.want)
			}
			for _, m := range tt.msgs {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
		})
	}
}

func TestValidationReportsAll(t *testing.T) {
	_, err := Parse([]byte(base+`
receive: {max_messages: 20, wait_time: 60s}
targets:
  - redshift: {table: $1}
    s3: {key_regexp: '('}
  - s3: {key_prefix: x}
`), "test.yaml", noEnv)
	var fes []*FieldError
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var fe *FieldError
		if errors.As(e, &fe) {
			fes = append(fes, fe)
		}
	}
	if len(fes) < 4 {
		t.Fatalf("want every problem reported, got %d: %v", len(fes), err)
	}
	for _, fe := range fes {
		if fe.Line == 0 || fe.Field == "" {
			t.Errorf("error without line or field: %+v", fe)
		}
	}
}

func TestOriginalBrokenFixtures(t *testing.T) {
	for name, want := range map[string]error{
		"config.yml.invalid_regexp":  ErrRegexp,
		"config.yml.no_key_matcher":  ErrRequired,
		"config.yml.iam_role.absent": ErrLocation,
	} {
		_, err := Load(t.Context(), "testdata/"+name, noEnv)
		if !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", name, err, want)
		}
	}
}

func TestQueueOptional(t *testing.T) {
	src := strings.Replace(base, "queue_name: q", "", 1) + "targets: [{redshift: {table: t}, s3: {key_prefix: p/}}]\n"
	if _, err := Parse([]byte(src), "t.yaml", noEnv, WithQueueOptional()); err != nil {
		t.Error(err)
	}
}

func TestPGSSLMODEInvalid(t *testing.T) {
	_, err := Parse([]byte(base+"targets: [{redshift: {table: t}, s3: {key_prefix: p/}}]\n"), "t.yaml", env(map[string]string{"PGSSLMODE": "bogus"}))
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "PGSSLMODE") {
		t.Errorf("%v", err)
	}
}

func TestAnchorsAndMerge(t *testing.T) {
	c := mustParse(t, base+`
targets:
  - &first
    redshift: {schema: s, table: a}
    s3: {key_prefix: a/}
  - <<: *first
    redshift: {schema: s, table: b}
    s3: {key_prefix: b/}
`)
	if got := names(c.Route("b", "b/1")); got != `targets[1]="s"."b"` {
		t.Errorf("merge: %s", got)
	}
	_, err := Parse([]byte(base+`
targets:
  - &first
    redshift: {table: a}
    s3: {key_prefix: a/}
  - <<: *first
    s3: {key_prefx: b/}
`), "t.yaml", noEnv)
	if !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), "targets[1].s3.key_prefx") {
		t.Errorf("unknown key beside a merge: %v", err)
	}
}
