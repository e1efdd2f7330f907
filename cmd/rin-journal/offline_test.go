package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/rinhq/rin/journal"
)

func TestDumpJSON(t *testing.T) {
	path := newJournal(t)
	out := mustRun(t, "-journal", path, "dump")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 8 {
		t.Fatalf("%d lines, want 8:\n%s", len(lines), out)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "state", "target", "uri", "bucket", "key", "attempts", "last_error", "next_attempt", "created", "updated", "copied_at", "event_time", "rows", "batch_id", "endpoint", "schema", "table", "size", "version"} {
		if _, ok := rec[k]; !ok {
			t.Errorf("field %q missing from %s", k, lines[0])
		}
	}
	if rec["id"] != "a1" || rec["uri"] != "s3://logs/app/a1.json" {
		t.Errorf("first record: %s", lines[0])
	}
}

func TestDumpFilterAndTable(t *testing.T) {
	path := newJournal(t)
	// Global flags after the command work too.
	out := mustRun(t, "dump", "-journal", path, "-state", "failed", "-target", "targets[1]")
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, `"id":"f2"`) {
		t.Errorf("filtered dump: %s", out)
	}
	out = mustRun(t, "-journal", path, "dump", "-prefix", "web/", "-older-than", "5d")
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, `"id":"a2"`) {
		t.Errorf("prefix and age: %s", out)
	}
	out, stderr, err := run(t, "-journal", path, "dump", "-format", "table", "-state", "failed")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID ") || !strings.Contains(lines[1], "f1") || !strings.Contains(lines[1], `relation "public.missing"`) {
		t.Errorf("table:\n%s", out)
	}
	if strings.Index(lines[0], "STATE") != strings.Index(lines[1], "failed") {
		t.Errorf("columns not aligned:\n%s", out)
	}
	if !strings.Contains(stderr, "2 jobs (offline)") {
		t.Errorf("stderr: %s", stderr)
	}
	_, _, err = run(t, "-journal", path, "dump", "-state", "done")
	oneLineError(t, err, `unknown state "done"`)
}

func TestStats(t *testing.T) {
	path := newJournal(t)
	var st struct {
		Total  int            `json:"total"`
		States map[string]int `json:"states"`
		Errors []struct {
			Error string `json:"error"`
			Jobs  int    `json:"jobs"`
		} `json:"errors"`
		OldestPending struct {
			ID string `json:"id"`
		} `json:"oldest_pending"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "-journal", path, "stats")), &st); err != nil {
		t.Fatal(err)
	}
	if st.Total != 8 || st.States["failed"] != 2 || st.States["acked"] != 3 || len(st.Errors) != 2 || st.Errors[0].Jobs != 2 || st.Errors[0].Error != missingTable {
		t.Errorf("stats: %+v", st)
	}
	out := mustRun(t, "-journal", path, "stats", "-format", "table")
	for _, want := range []string{"jobs:            8 (received 1, copying 1, copied 1, acked 3, failed 2, superseded 0, removed 0)", "targets[1]", "most frequent errors", missingTable} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestRequeueOffline(t *testing.T) {
	path := newJournal(t)
	before := jobStates(t, path)
	_, _, err := run(t, "-journal", path, "requeue", "f1", "nope")
	oneLineError(t, err, "job nope: no such job")
	if !errors.Is(err, journal.ErrNotFound) {
		t.Errorf("not ErrNotFound: %v", err)
	}
	_, _, err = run(t, "-journal", path, "requeue", "a3")
	oneLineError(t, err, "only failed jobs can be requeued")
	_, _, err = run(t, "-journal", path, "requeue")
	oneLineError(t, err, "-all-failed")
	if after := jobStates(t, path); len(after) != len(before) || after["f1"] != journal.Failed {
		t.Fatalf("refused requeue changed the journal: %v", after)
	}

	out := mustRun(t, "-journal", path, "requeue", "f1")
	if !strings.Contains(out, "requeued f1 targets[0] s3://logs/app/f1.json") || !strings.Contains(out, "1 job requeued (offline; rin loads them when it next starts)") {
		t.Errorf("requeue: %s", out)
	}
	out = mustRun(t, "-journal", path, "requeue", "-all-failed", "-target", "targets[1]")
	if !strings.Contains(out, "requeued f2") {
		t.Errorf("requeue -all-failed: %s", out)
	}
	out = mustRun(t, "-journal", path, "requeue", "-all-failed")
	if !strings.Contains(out, "nothing to requeue") {
		t.Errorf("requeue with none failed: %s", out)
	}
	if s := jobStates(t, path); s["f1"] != journal.Received || s["f2"] != journal.Received {
		t.Errorf("states: %v", s)
	}
}

func TestForgetOffline(t *testing.T) {
	path := newJournal(t)
	out := mustRun(t, "-journal", path, "forget")
	if !strings.Contains(out, "forgot 2 acked jobs") || !strings.Contains(out, "older than 7d") {
		t.Errorf("forget (default retention): %s", out)
	}
	out = mustRun(t, "-journal", path, "forget", "-older-than", "30m")
	if !strings.Contains(out, "forgot 1 acked job") {
		t.Errorf("forget 30m: %s", out)
	}
	_, _, err := run(t, "-journal", path, "forget", "-older-than", "0")
	oneLineError(t, err, "must be positive")
	_, _, err = run(t, "-journal", path, "forget", "-older-than", "soon")
	if err == nil {
		t.Error("bad duration accepted")
	}
	if s := jobStates(t, path); len(s) != 5 {
		t.Errorf("left: %v", s)
	}
}

func TestForgetRetentionFromConfig(t *testing.T) {
	path := newJournal(t)
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(cfg, []byte(`
queue_name: q
redshift: {host: 127.0.0.1, dbname: dev, user: rin, password: p}
s3: {bucket: logs, region: us-east-1}
targets:
  - s3: {key_prefix: app/}
    redshift: {table: t0}
journal:
  path: `+path+`
  retention: 30m
`), 0o600)
	out := mustRun(t, "-config", cfg, "forget")
	if !strings.Contains(out, "forgot 3 acked jobs") || !strings.Contains(out, "older than 30m0s") {
		t.Errorf("forget with the config's retention: %s", out)
	}
	_, _, err := run(t, "-config", filepath.Join(t.TempDir(), "nope.yaml"), "stats")
	if err == nil {
		t.Error("a missing explicit -config was ignored")
	}
}

func TestCheck(t *testing.T) {
	path := newJournal(t)
	out := mustRun(t, "-journal", path, "check")
	if !strings.Contains(out, ": ok (offline)") {
		t.Errorf("check: %s", out)
	}

	// An index entry that disagrees with its job.
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error {
		seq := tx.Bucket([]byte("id")).Get([]byte("f1"))
		return tx.Bucket([]byte("index")).Delete(append([]byte("failed/"), seq...))
	})
	db.Close()
	out, _, err = run(t, "-journal", path, "check")
	oneLineError(t, err, "2 problems found")
	if !strings.Contains(out, "job f1: state failed missing from the index") {
		t.Errorf("check output: %s", out)
	}
}

func TestCheckCorruptFile(t *testing.T) {
	path := newJournal(t)
	b, _ := os.ReadFile(path)
	for i := 0; i < 8192 && i < len(b); i++ { // both meta pages
		b[i] ^= 0xff
	}
	os.WriteFile(path, b, 0o600)
	_, _, err := run(t, "-journal", path, "check")
	oneLineError(t, err, "corrupt")
}

func TestCompactOffline(t *testing.T) {
	path := newJournal(t)
	mustRun(t, "-journal", path, "forget", "-older-than", "1m")
	out := mustRun(t, "-journal", path, "compact")
	if !strings.Contains(out, "into "+path+".compact") {
		t.Errorf("compact: %s", out)
	}
	_, _, err := run(t, "-journal", path, "compact")
	oneLineError(t, err, "already exists")
	os.Remove(path + ".compact")
	out = mustRun(t, "-journal", path, "compact", "-replace")
	if !strings.Contains(out, "compacted "+path) {
		t.Errorf("compact -replace: %s", out)
	}
	if _, err := os.Stat(path + ".compact"); !errors.Is(err, os.ErrNotExist) {
		t.Error("compacted copy left beside the journal")
	}
	if s := jobStates(t, path); len(s) != 5 {
		t.Errorf("after compaction: %v", s)
	}
	mustRun(t, "-journal", path, "check")
}

func TestMissingJournal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.db")
	for _, cmd := range [][]string{{"dump"}, {"stats"}, {"check"}, {"requeue", "f1"}, {"forget"}, {"compact"}} {
		_, _, err := run(t, append([]string{"-journal", path}, cmd...)...)
		oneLineError(t, err, "journal does not exist")
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s created the journal", cmd[0])
		}
	}
}

func TestNewerSchema(t *testing.T) {
	path := newJournal(t)
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), []byte(strconv.Itoa(journal.SchemaVersion+1)))
	})
	db.Close()
	for _, cmd := range [][]string{{"dump"}, {"stats"}, {"check"}, {"requeue", "f1"}, {"forget"}} {
		_, _, err := run(t, append([]string{"-journal", path}, cmd...)...)
		oneLineError(t, err, "written by a newer rin")
	}
}

func TestUsage(t *testing.T) {
	_, _, err := run(t)
	if !errors.Is(err, errNoCommand) {
		t.Errorf("no command: %v", err)
	}
	_, _, err = run(t, "frobnicate")
	oneLineError(t, err, `unknown command "frobnicate"`)
	_, _, err = run(t, "dump", "-format", "xml", "-journal", "x")
	oneLineError(t, err, "want json or table")
}

// corruptLeaf overwrites one leaf page of the journal (not a meta page)
// with garbage, as a bad disk would, and returns its id.
func corruptLeaf(t *testing.T, path string) int {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	leaf, size := -1, db.Info().PageSize
	db.View(func(tx *bolt.Tx) error {
		for id := 2; ; id++ {
			p, err := tx.Page(id)
			if err != nil || p == nil {
				return err
			}
			if p.Type == "leaf" {
				leaf = id
			}
		}
	})
	db.Close()
	if leaf < 0 {
		t.Fatal("no leaf page")
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte(strings.Repeat("\x5a", size)), int64(leaf*size)); err != nil {
		t.Fatal(err)
	}
	return leaf
}

// TestCheckDamagedPage: a page bbolt cannot parse makes it panic; every
// command still ends with a one-line error and a non-zero exit.
func TestCheckDamagedPage(t *testing.T) {
	path := newJournal(t)
	corruptLeaf(t, path)
	out, _, err := run(t, "-journal", path, "check")
	if err == nil || strings.Contains(err.Error(), "\n") {
		t.Fatalf("check of a damaged page: %v", err)
	}
	if !strings.Contains(out, "bbolt: unreadable page") && !strings.Contains(err.Error(), "is it corrupt?") && !strings.Contains(err.Error(), "journal is corrupt") {
		t.Errorf("check says %q, %v", out, err)
	}
	for _, cmd := range []string{"dump", "stats"} {
		if _, _, err := run(t, "-journal", path, cmd); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s of a damaged page: %v", cmd, err)
		}
	}
}
