package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rinhq/rin/journal"
)

// longBody is longer than a table shows, with a terminal escape and a
// newline a table must not pass through.
var longBody = "\x1b[2J{\"Records\":[{\"s3\":{\"object\":{\"key\":\"" + strings.Repeat("k", 100) + "\"}}}]}\n"

// addRejected journals m1 (ten days ago), m2 (two hours ago) and m3 (now,
// with longBody) in the journal at path.
func addRejected(t *testing.T, path string) {
	t.Helper()
	j, err := journal.Open(path, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	now := time.Now()
	if err := j.Update(func(tx *journal.Tx) error {
		for _, r := range []journal.Rejected{
			{ID: "m1", Reason: "sqsx: malformed message: invalid character 'o' in literal null", Body: "nope", Rejected: now.Add(-10 * 24 * time.Hour)},
			{ID: "m2", Reason: "sqsx: malformed message: no Records", Body: `{"Records":[]}`, Rejected: now.Add(-2 * time.Hour)},
			{ID: "m3", Reason: "sqsx: malformed message: record 0: empty key", Body: longBody, Rejected: now},
		} {
			if err := tx.PutRejected(r); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// rejectedLines decodes JSON lines output, checking each has exactly the
// public fields.
func rejectedLines(t *testing.T, out string) []map[string]string {
	t.Helper()
	var recs []map[string]string
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]string
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if len(rec) != 4 || rec["id"] == "" || rec["rejected"] == "" || rec["reason"] == "" {
			t.Errorf("want id, rejected, reason, body: %s", line)
		}
		recs = append(recs, rec)
	}
	return recs
}

func idList(recs []map[string]string) string {
	var s []string
	for _, r := range recs {
		s = append(s, r["id"])
	}
	return strings.Join(s, ",")
}

func TestRejectedJSON(t *testing.T) {
	path := newJournal(t)
	addRejected(t, path)
	recs := rejectedLines(t, mustRun(t, "-journal", path, "rejected"))
	if idList(recs) != "m3,m2,m1" || recs[0]["body"] != longBody {
		t.Errorf("rejected: %v", recs)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-since", "1d"}, "m3,m2"},
		{[]string{"-limit", "1"}, "m3"},
		{[]string{"-since", "30m", "-limit", "5", "-format", "json"}, "m3"},
	} {
		args := append([]string{"-journal", path, "rejected"}, tc.args...)
		if got := idList(rejectedLines(t, mustRun(t, args...))); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.args, got, tc.want)
		}
	}
	_, _, err := run(t, "-journal", path, "rejected", "-limit", "-1")
	oneLineError(t, err, "must not be negative")
	_, _, err = run(t, "-journal", path, "rejected", "-since", "soon")
	if err == nil {
		t.Error("-since soon accepted")
	}
}

func TestRejectedTable(t *testing.T) {
	path := newJournal(t)
	addRejected(t, path)
	out, stderr, err := run(t, "-journal", path, "rejected", "-format", "table")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "ID ") || !strings.HasPrefix(lines[1], "m3 ") || !strings.HasPrefix(lines[3], "m1 ") {
		t.Fatalf("table:\n%s", out)
	}
	if strings.Index(lines[0], "REASON") != strings.Index(lines[1], "record 0: empty key") {
		t.Errorf("columns not aligned:\n%s", out)
	}
	if strings.Contains(out, "malformed message") || strings.ContainsRune(out, '\x1b') || !strings.Contains(lines[1], `\x1b[2J{"Records"`) || !strings.Contains(lines[3], "10d0h ago") {
		t.Errorf("body not escaped, or age missing:\n%s", out)
	}
	body := lines[1][strings.Index(lines[0], "BODY"):]
	if n := utf8.RuneCountInString(body); n != 80 || !strings.HasSuffix(body, "…") {
		t.Errorf("excerpt of %d runes: %q", n, body)
	}
	if !strings.Contains(stderr, "3 rejected messages (offline)") {
		t.Errorf("stderr: %s", stderr)
	}
}

func TestRejectedNone(t *testing.T) {
	path := newJournal(t)
	if out := mustRun(t, "-journal", path, "rejected"); out != "" {
		t.Errorf("json of nothing: %q", out)
	}
	out, stderr, err := run(t, "-journal", path, "rejected", "-format", "table")
	if err != nil || strings.TrimSpace(out) != "ID  REJECTED  REASON  BODY" || !strings.Contains(stderr, "0 rejected messages (offline)") {
		t.Errorf("table of nothing: %v %q %q", err, out, stderr)
	}
	out = mustRun(t, "-journal", path, "stats", "-format", "table")
	if !strings.Contains(out, "rejected SQS messages:  0\n") {
		t.Errorf("stats:\n%s", out)
	}
}

func TestRejectedInStats(t *testing.T) {
	path := newJournal(t)
	addRejected(t, path)
	var st struct {
		Rejected int `json:"rejected_messages"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "-journal", path, "stats")), &st); err != nil || st.Rejected != 3 {
		t.Errorf("stats json: %v %+v", err, st)
	}
	out := mustRun(t, "-journal", path, "stats", "-format", "table")
	if !strings.Contains(out, "undeleted SQS messages: 0\nrejected SQS messages:  3 (see rin-journal rejected)\n") {
		t.Errorf("stats table:\n%s", out)
	}
}

func TestRejectedLive(t *testing.T) {
	path := newJournal(t)
	addRejected(t, path)
	serve(t, path)
	if got := idList(rejectedLines(t, mustRun(t, "-journal", path, "rejected", "-since", "1d"))); got != "m3,m2" {
		t.Errorf("live rejected: %s", got)
	}
	recs := rejectedLines(t, mustRun(t, "-journal", path, "rejected", "-limit", "1"))
	if len(recs) != 1 || recs[0]["body"] != longBody {
		t.Errorf("live body: %v", recs)
	}
	_, stderr, err := run(t, "-journal", path, "rejected", "-format", "table")
	if err != nil || !strings.Contains(stderr, "3 rejected messages (live, through rin pid") {
		t.Errorf("live table: %v %s", err, stderr)
	}
	_, _, err = run(t, "-journal", path, "rejected", "-limit", "-1")
	oneLineError(t, err, "must not be negative")
}

func TestEscape(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"plain", 80, "plain"},
		{"a\nb\tc\rd\x00e\x7f", 80, `a\nb\tc\rd\x00e\x7f`},
		{"\x1b[31mred", 80, `\x1b[31mred`},
		{"ünï \u202e \u00a0 \U000e0001", 80, `ünï \u202e \u00a0 \U000e0001`},
		{"bad \xff byte", 80, `bad \xff byte`},
		{"abcdef", 6, "abcdef"},
		{"abcdefg", 6, "abcde…"},
		{"abcd\n", 5, "abcd…"},  // an escape is not split
		{"abc\n", 5, `abc\n`},   // fits exactly at the end
		{"日本語のテキスト", 4, "日本語…"}, // runes, not bytes
	} {
		if got := escape(tc.in, tc.n); got != tc.want {
			t.Errorf("escape(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
