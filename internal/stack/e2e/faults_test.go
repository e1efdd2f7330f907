package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rinhq/rin/admin"
	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/internal/stack"
	"github.com/rinhq/rin/internal/stack/stacktest"
	"github.com/rinhq/rin/journal"
	"github.com/rinhq/rin/redshift"
)

// Faults as AWS reports them (REFERENCE.md §5): an environment fault holds
// its scope and heals on its own; only an object's own fault isolates it.
// Each test injects the fault through the Redshift simulator, which answers
// with Redshift's own error texts.

// notifyMany uploads n objects of rows rows under prefix and sends their
// events, ten records a message; it returns the keys.
func (e *env) notifyMany(prefix string, n, rows int) []string {
	e.t.Helper()
	var keys []string
	var batch []stack.ObjectEvent
	flush := func() {
		if len(batch) > 0 {
			e.send(stack.S3EventBody(batch...))
			batch = batch[:0]
		}
	}
	for i := 0; i < n; i++ {
		k := fmt.Sprintf("%s%04d.json", prefix, i)
		keys = append(keys, k)
		batch = append(batch, e.put(k, object(k, rows)))
		if len(batch) == 10 {
			flush()
		}
	}
	flush()
	return keys
}

// productionRetry is rin's default retry policy (1 s doubling to 30 s), so
// the windows below measure what users get, not a test's quicker tuning.
const productionRetry = "retry:\n  initial_interval: 1s\n  max_interval: 30s\n  max_attempts: 3\n"

// A 20 s window in which every COPY fails, as when the cluster's role may
// not read S3 (an IAM policy rollout) or the cluster is read-only (a
// resize): 1,000 objects at 50 ms per COPY all load exactly once, no job
// ever fails, at most 60 COPYs are tried inside the window, and the backlog
// drains within 30 s after it.
func TestEnvironmentWindowHoldsThenDrains(t *testing.T) {
	if testing.Short() {
		t.Skip("slow end-to-end test: skipped with -short (make test-short); make test runs it")
	}
	for _, c := range []struct {
		name      string
		start     func(e *env)
		end       func(e *env)
		logPhrase string
	}{
		{"access denied", func(e *env) { e.st.Redshift().DenyS3(e.bucket, "") }, func(e *env) { e.st.Redshift().AllowS3(e.bucket, "") }, "scope=bucket"},
		{"read only", func(e *env) { e.st.Redshift().SetReadOnly(true) }, func(e *env) { e.st.Redshift().SetReadOnly(false) }, "scope=endpoint"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			e.table("foo")
			cfg := e.writeConfig("config.yaml", fooTarget, productionRetry)
			sim := e.st.Redshift()
			sim.SetCopyLatency(50 * time.Millisecond)
			defer sim.ResetFaults()
			keys := e.notifyMany("foo/", 1000, 10)

			c.start(e)
			before := sim.Stats()
			p := e.start("-config", cfg)
			const window = 20 * time.Second
			time.Sleep(window)
			during := sim.Stats()
			failedAttempts := countLines(e, "environment fault")
			c.end(e)
			healed := time.Now()
			e.waitFor(60*time.Second, "all loaded", func() bool { return len(e.rowsBySource("foo")) == 1000 })
			drain := time.Since(healed)
			e.waitFor(30*time.Second, "queue empty", e.queueEmpty)
			p.stop(t)

			e.assertExactlyOnce("foo", keys, 10)
			e.assertSettled(0)
			// rin's attempts (each failed one logs a line; a read-only
			// cluster fails some before the COPY, on the ledger), and the
			// COPY statements that reached the simulator.
			copies := (during.Copies + during.CopiesFailed) - (before.Copies + before.CopiesFailed)
			t.Logf("%s: %d attempts (%d COPY statements) in the %s window; drained %s after it", c.name, failedAttempts, copies, window, drain.Round(100*time.Millisecond))
			if failedAttempts == 0 || failedAttempts > 60 || copies > 60 {
				t.Errorf("%d attempts, %d COPYs inside the window; want 1..60", failedAttempts, copies)
			}
			if drain > 30*time.Second {
				t.Errorf("drained %s after the window; want within 30 s", drain)
			}
			if !e.logsContain(c.logPhrase) {
				t.Errorf("no log line names the held scope (%s)", c.logPhrase)
			}
			if countLines(e, "splitting to isolate") > 0 {
				t.Error("an environment fault bisected batches")
			}
		})
	}
}

// A bucket in another region (301 PermanentRedirect) holds that bucket
// only: a target reading another bucket loads meanwhile.
func TestWrongRegionHoldsThatBucketOnly(t *testing.T) {
	e := newEnv(t)
	e.table("foo")
	e.table("bar")
	// foo's objects in a bucket of their own, in another region; bar's in
	// the test's usual bucket.
	inOther := *e
	e.bucket = stacktest.NewBucket(t, e.st)
	cfg := e.writeConfig("config.yaml", fooTarget+"  - redshift: {table: bar}\n    s3: {bucket: "+inOther.bucket+", key_prefix: bar/}\n", "")
	sim := e.st.Redshift()
	sim.SetBucketRegion(e.bucket, "eu-west-1")
	defer sim.ResetFaults()
	foo := e.notifyMany("foo/", 20, 2)
	bar := inOther.notifyMany("bar/", 20, 2)
	p := e.start("-config", cfg)
	e.waitFor(60*time.Second, "the other bucket loaded", func() bool { return len(e.rowsBySource("bar")) == 20 })
	e.waitFor(30*time.Second, "the bucket held", func() bool { return e.logsContain("scope=bucket") })
	if n := len(e.rowsBySource("foo")); n != 0 {
		t.Fatalf("%d objects loaded from the bucket in another region", n)
	}
	// A probe may be in flight (its job copying): wait for the jobs to be
	// between probes, all received.
	var jobs map[journal.State][]admin.Record
	e.waitFor(30*time.Second, "the held jobs between probes", func() bool {
		jobs = e.liveJobs()
		return len(jobs[journal.Received]) == 20 || len(jobs[journal.Failed]) != 0
	})
	if len(jobs[journal.Failed]) != 0 || len(jobs[journal.Received]) != 20 || !strings.Contains(jobs[journal.Received][0].LastError, "PermanentRedirect") {
		t.Fatalf("held bucket: %d failed, %d received", len(jobs[journal.Failed]), len(jobs[journal.Received]))
	}
	sim.SetBucketRegion(e.bucket, "us-east-1")
	e.waitFor(60*time.Second, "held bucket loaded after the fix", func() bool { return len(e.rowsBySource("foo")) == 20 })
	e.waitFor(30*time.Second, "queue empty", e.queueEmpty)
	p.stop(t)
	e.assertExactlyOnce("foo", foo, 2)
	e.assertExactlyOnce("bar", bar, 2)
	e.assertSettled(0)
}

// A serializable isolation conflict (error 1023) on one table retries that
// table's statement; the other table loads without waiting for it.
func TestConflictOnOneTableDoesNotSlowAnother(t *testing.T) {
	if testing.Short() {
		t.Skip("slow end-to-end test: skipped with -short (make test-short); make test runs it")
	}
	e := newEnv(t)
	e.table("foo")
	e.table("bar")
	cfg := e.writeConfig("config.yaml", fooTarget+"  - redshift: {table: bar}\n    s3: {key_prefix: bar/}\n", "")
	sim := e.st.Redshift()
	sim.SerializationConflictsInto(e.schema+".foo", 6)
	defer sim.ResetFaults()
	foo := e.notifyMany("foo/", 10, 2)
	bar := e.notifyMany("bar/", 10, 2)
	p := e.start("-config", cfg)
	e.waitFor(60*time.Second, "bar loaded", func() bool { return len(e.rowsBySource("bar")) == 10 })
	fooAtBar := len(e.rowsBySource("foo"))
	e.waitFor(60*time.Second, "foo loaded after its conflicts", func() bool { return len(e.rowsBySource("foo")) == 10 })
	e.waitFor(30*time.Second, "queue empty", e.queueEmpty)
	p.stop(t)
	if fooAtBar == 10 {
		t.Error("foo had loaded before bar: the conflicts did not happen")
	}
	if countLines(e, "retrying the statement") < 6 {
		t.Errorf("%d statement retries logged; want the 6 conflicts", countLines(e, "retrying the statement"))
	}
	if e.logsContain("holding its scope") {
		t.Error("a conflict held a scope")
	}
	e.assertExactlyOnce("foo", foo, 2)
	e.assertExactlyOnce("bar", bar, 2)
	e.assertSettled(0)
}

// With MAXERROR a COPY commits having skipped bad rows: rin records the
// skipped rows per object, in the journal and the ledger, and shows them.
func TestPartialLoadRecorded(t *testing.T) {
	if testing.Short() {
		t.Skip("slow end-to-end test: skipped with -short (make test-short); make test runs it")
	}
	e := newEnv(t)
	e.table("foo")
	cfg := e.writeConfig("config.yaml", "  - redshift: {table: foo}\n    s3: {key_prefix: foo/}\n    sql_option: \"JSON 'auto' MAXERROR 10\"\n", "")
	good := e.notifyMany("foo/good", 4, 3)
	bad := "foo/partial.json"
	body := string(object(bad, 3)) + `{"src":"` + bad + `","n":"not a number","msg":"x"}` + "\n" + `{"src":"` + bad + `","n":"nor this","msg":"y"}` + "\n"
	e.send(stack.S3EventBody(e.put(bad, []byte(body))))
	code, out := e.run(2*time.Minute, "-config", cfg, "-batch")
	if code != 0 {
		t.Fatalf("rin -batch exited %d: %s", code, tail([]byte(out), 3000))
	}
	want := map[string]int{bad: 3}
	for _, k := range good {
		want[k] = 3
	}
	e.assertRows(e.schema, "foo", want)
	e.assertSettled(0)
	var skipped int64
	for _, j := range e.jobs()[journal.Acked] {
		if j.Key == bad {
			skipped = j.SkippedRows
		} else if j.SkippedRows != 0 {
			t.Errorf("%s: %d rows skipped recorded; want 0", j.Key, j.SkippedRows)
		}
	}
	if skipped != 2 {
		t.Fatalf("journal: %d rows skipped for %s; want 2", skipped, bad)
	}
	var ledger int64
	ls, lt := redshift.LedgerTable(config.Ledger{Schema: config.DefaultLedgerSchema, Table: config.DefaultLedgerTable}, e.schema, "foo")
	if err := e.backend().QueryRow(context.Background(), `SELECT skipped_rows FROM `+pgx.Identifier{ls, lt}.Sanitize()+` WHERE s3_uri = $1`, "s3://"+e.bucket+"/"+bad).Scan(&ledger); err != nil || ledger != 2 {
		t.Fatalf("ledger: skipped_rows %d, err %v; want 2", ledger, err)
	}
	if !strings.Contains(out, "rows skipped") {
		t.Error("no log line reports the skipped rows")
	}
	journalStats := runJournal(t, e, "stats", "-format", "table")
	if !strings.Contains(journalStats, "partial loads:") || !strings.Contains(journalStats, "2 rows skipped") {
		t.Errorf("rin-journal stats does not show the partial load:\n%s", journalStats)
	}
}

// An expired session token is refreshed before the retry: the COPY
// credentials come from the default chain (a credential_process here,
// handing out a new token each call), the simulator refuses the first.
func TestExpiredTokenRefreshed(t *testing.T) {
	e := newEnv(t)
	e.table("foo")
	cfg := e.writeConfig("config.yaml", fooTarget, "")
	// No keys in the config: the default chain supplies them.
	b, _ := os.ReadFile(cfg)
	var kept []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, "aws_access_key_id:") || strings.Contains(line, "aws_secret_access_key:") {
			continue
		}
		kept = append(kept, line)
	}
	os.WriteFile(cfg, []byte(strings.Join(kept, "\n")), 0o600)
	counter := filepath.Join(e.dir, "calls")
	script := filepath.Join(e.dir, "creds.sh")
	os.WriteFile(script, []byte(`#!/bin/sh
n=$(cat `+counter+` 2>/dev/null || echo 0); n=$((n+1)); echo $n > `+counter+`
printf '{"Version":1,"AccessKeyId":"AKIAPROCESS","SecretAccessKey":"procsecret","SessionToken":"tok-%s","Expiration":"2099-01-01T00:00:00Z"}' $n
`), 0o700)
	awsConfig := filepath.Join(e.dir, "aws-config")
	os.WriteFile(awsConfig, []byte("[default]\ncredential_process = "+script+"\n"), 0o600)
	sim := e.st.Redshift()
	sim.ExpireToken("tok-1")
	defer sim.ResetFaults()
	keys := e.notifyMany("foo/", 5, 2)
	p := e.startEnv([]string{"AWS_CONFIG_FILE=" + awsConfig, "AWS_SHARED_CREDENTIALS_FILE=/nonexistent", "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_SESSION_TOKEN=", "AWS_PROFILE="}, "-config", cfg)
	e.waitFor(60*time.Second, "loaded with a fresh token", func() bool { return len(e.rowsBySource("foo")) == 5 })
	e.waitFor(30*time.Second, "queue empty", e.queueEmpty)
	p.stop(t)
	e.assertExactlyOnce("foo", keys, 2)
	e.assertSettled(0)
	if !e.logsContain("scope=credentials") {
		t.Error("the expired token was not taken as a credentials fault")
	}
	calls, _ := os.ReadFile(counter)
	if strings.TrimSpace(string(calls)) < "2" {
		t.Errorf("credential_process ran %s times; want a refresh after the expired token", strings.TrimSpace(string(calls)))
	}
	for _, p := range e.logs {
		b, _ := os.ReadFile(p)
		if strings.Contains(string(b), "procsecret") || strings.Contains(string(b), "tok-2") {
			t.Errorf("%s shows the process's credentials", filepath.Base(p))
		}
	}
}

// runJournal runs rin-journal (built once) on the test's journal.
func runJournal(t *testing.T, e *env, args ...string) string {
	t.Helper()
	bin := rinJournalBin(t)
	cmd := exec.Command(bin, append(args, "-journal", filepath.Join(e.dir, "rin.journal.db"))...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("rin-journal %v: %v\n%s", args, err, out)
	}
	return string(out)
}

var (
	journalBinOnce sync.Once
	journalBin     string
	journalBinErr  error
)

func rinJournalBin(t *testing.T) string {
	journalBinOnce.Do(func() {
		journalBin = filepath.Join(filepath.Dir(rinBin), "rin-journal")
		out, err := buildInRin("-o", journalBin, "./cmd/rin-journal")
		if err != nil {
			journalBinErr = fmt.Errorf("build rin-journal: %v\n%s", err, out)
		}
	})
	if journalBinErr != nil {
		t.Fatal(journalBinErr)
	}
	return journalBin
}

// Access denied on data files (the manifest is readable, two objects of the
// batch are not) is the bucket's fault like a denied manifest: nothing is
// split or parked, and all load once the policy is fixed.
func TestDataFileAccessDeniedHoldsBucket(t *testing.T) {
	e := newEnv(t)
	e.table("foo")
	cfg := e.writeConfig("config.yaml", fooTarget, "")
	sim := e.st.Redshift()
	sim.DenyS3(e.bucket, "foo/secret/")
	defer sim.ResetFaults()
	keys := append(e.notifyMany("foo/open/", 8, 2), e.notifyMany("foo/secret/", 2, 2)...)
	p := e.start("-config", cfg)
	e.waitFor(60*time.Second, "the bucket held", func() bool { return e.logsContain("scope=bucket") })
	// Held, the jobs go on past retry.max_attempts (2) without failing:
	// wait for them to be back between probes (not in one) after more
	// attempts than that.
	var jobs map[journal.State][]admin.Record
	e.waitFor(30*time.Second, "the held jobs past max_attempts, between probes", func() bool {
		jobs = e.liveJobs()
		r := jobs[journal.Received]
		return len(jobs[journal.Failed]) > 0 || (len(r) > 0 && r[0].Attempts > 2)
	})
	if len(jobs[journal.Failed]) != 0 || !strings.Contains(jobs[journal.Received][0].LastError, "S3 key being read") {
		t.Fatalf("while denied: %d failed, received %+v", len(jobs[journal.Failed]), jobs[journal.Received])
	}
	sim.AllowS3(e.bucket, "foo/secret/")
	e.waitFor(60*time.Second, "all loaded", func() bool { return len(e.rowsBySource("foo")) == 10 })
	e.waitFor(30*time.Second, "queue empty", e.queueEmpty)
	p.stop(t)
	e.assertExactlyOnce("foo", keys, 2)
	e.assertSettled(0)
	if countLines(e, "splitting to isolate") > 0 {
		t.Error("a denied data file split the batch")
	}
}
