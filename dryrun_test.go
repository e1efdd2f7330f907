package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rinhq/rin/config"
)

// offlineAWS points the AWS SDK at a profile that does not exist, with no
// shared files and no endpoint: anything that builds an AWS config or
// calls AWS fails.
func offlineAWS(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_PROFILE": "no-such-profile", "AWS_CONFIG_FILE": filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"), "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
	} {
		t.Setenv(k, v)
	}
	if _, err := awsConfig(t.Context(), config.Credentials{}); err == nil {
		t.Fatal("the AWS config loads with a profile that does not exist: the test proves nothing")
	}
}

// runRin runs the rin command with args and returns its stdout and error.
func runRin(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd, rest := commandFor(args, &out, &errOut, os.Getenv)
	err := cmd.Run(t.Context(), rest)
	return out.String(), errOut.String(), err
}

// -dry-run works offline: a bad AWS_PROFILE does not fail it, and it
// prints every target with its COPY, credentials masked.
func TestDryRunOffline(t *testing.T) {
	offlineAWS(t)
	const secret = "dry-run-secret/DoNotPrint"
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret) // the original's config reads it with must_env
	out, errOut, err := runRin(t, "-config", filepath.Join(originalDir, "config.yml"), "-dry-run")
	if err != nil {
		t.Fatalf("dry-run: %v\n%s", err, errOut)
	}
	for _, want := range []string{
		"targets[0]\n  match:    s3://test.bucket.test/test/foo/discard* (key_prefix)\n  action:   discard",
		`copy:     /* Rin */ COPY "foo" FROM 's3://test.bucket.test/_rin/manifests/<batch_id>.manifest' CREDENTIALS '[REDACTED]' REGION 'ap-northeast-1' MANIFEST JSON 'auto' GZIP`,
		`copy:     /* Rin */ COPY "xxx"."bar_break" FROM 's3://test.bucket.test/_rin/manifests/<batch_id>.manifest' CREDENTIALS '[REDACTED]' REGION 'ap-northeast-1' MANIFEST CSV DELIMITER ',' ESCAPE`,
		"action:   load, then stop matching (break)",
		`table:    "$1"."$2" (filled in from each key; see rin route)`,
		"s3://example.bucket/ keys matching test/(s[0-9]+)/(t[0-9]+)/ (key_regexp)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	for _, s := range []string{secret, "test_pass", "AAA"} {
		if strings.Contains(out+errOut, s) {
			t.Errorf("output shows the secret %q", s)
		}
	}
	if t.Failed() {
		t.Log(out)
	}

	// A Lambda mode config, without queue_name, is shown, not refused.
	lambda := filepath.Join(t.TempDir(), "lambda.yaml")
	if err := os.WriteFile(lambda, []byte("redshift: {host: h, dbname: d, user: u, password: p}\ns3: {bucket: b}\ntargets:\n  - redshift: {table: t}\n    s3: {key_prefix: a/}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, errOut, err := runRin(t, "-config", lambda, "-dry-run"); err != nil || !strings.Contains(out, "queue:   (none: Lambda mode only") {
		t.Errorf("dry-run of a Lambda config: %v\n%s%s", err, out, errOut)
	}
}

// rin route and -dry-run -key show each key's targets and tables:
// discard, break, a capture that makes an unusable table name (exit
// non-zero), a key matching nothing and rin's own manifests.
func TestRoute(t *testing.T) {
	offlineAWS(t)
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte(`
queue_name: q
redshift: {host: h.example, dbname: db, user: u, password: secret-password}
s3: {bucket: b}
sql_option: "JSON 'auto'"
targets:
  - s3: {key_prefix: logs/skip/}
    discard: true
  - redshift: {schema: $1, table: $2}
    s3: {key_regexp: '^logs/([a-z]*)/([a-z]+)/'}
    break: true
  - redshift: {table: everything}
    s3: {key_prefix: logs/}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := runRin(t, "route", "-config", cfg, "s3://b/logs/app/events/1.json", "s3://b/logs/skip/x", "s3://b/logs/other.json",
		"s3://b/nothing/here", "s3://b/_rin/manifests/abc.manifest")
	if err != nil {
		t.Fatalf("route: %v\n%s", err, errOut)
	}
	for _, want := range []string{
		"s3://b/logs/app/events/1.json\n  targets[1]  load into \"app\".\"events\" on postgres://u@h.example:5439/db\n    break: no later target is tried\n",
		"s3://b/logs/skip/x\n  targets[0]  discard: nothing is loaded, and no later target is tried\n",
		"s3://b/logs/other.json\n  targets[2]  load into \"everything\" on postgres://u@h.example:5439/db\n",
		"s3://b/nothing/here\n  matches no target",
		"s3://b/_rin/manifests/abc.manifest\n  under rin's manifest prefix: never routed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(out)
	}

	// A capture that yields an empty schema: the job would fail.
	for _, args := range [][]string{
		{"route", "-config", cfg, "s3://b/logs//events/1.json"},
		{"-config", cfg, "-dry-run", "-key", "s3://b/logs//events/1.json"},
	} {
		out, _, err = runRin(t, args...)
		if err == nil || !strings.Contains(out, `targets[1]  cannot load: targets[1].redshift.schema: invalid identifier: "$1" expanded to ""`) {
			t.Errorf("%v: err %v, output:\n%s", args, err, out)
		}
	}
	if _, _, err := runRin(t, "route", "-config", cfg, "b/key"); err == nil || !strings.Contains(err.Error(), "want s3://bucket/key") {
		t.Errorf("a key that is no s3:// URI: %v", err)
	}
}
