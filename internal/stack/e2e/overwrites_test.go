package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rinhq/rin/internal/stack"
	"github.com/rinhq/rin/journal"
)

// Issue 13, part 3: objects that change. S3 sends an event per write of a
// key, in any order, and COPY reads whatever the key holds when it runs.

// Rows of the first and the second version of a rewritten key: a table
// that holds 3 rows of a key holds its current bytes exactly once; 2, 5 or
// 6 would be the first version, or a version loaded twice.
const (
	firstVersionRows  = 2
	secondVersionRows = 3
)

// TestRewrittenKeysLoadCurrentBytesOnce: 300 keys each written twice
// before rin starts, both events of each sent in shuffled order, beside 20
// keys written once and 10 deleted after their event. rin -batch loads each
// key's current bytes exactly once: an older event that comes second ends
// superseded on arrival; one that comes first finds the key rewritten and
// loads the current bytes as that version, which the newer event then
// finds loaded. The deleted keys end removed; nothing fails. Then the
// first versions' events come again (no COPY), and a key rewritten
// afterwards loads again as a new version.
func TestRewrittenKeysLoadCurrentBytesOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("slow end-to-end test: skipped with -short (make test-short); make test runs it")
	}
	for _, versioned := range []bool{false, true} {
		t.Run(fmt.Sprintf("versioned=%t", versioned), func(t *testing.T) {
			testRewrittenKeys(t, versioned)
		})
	}
}

func testRewrittenKeys(t *testing.T, versioned bool) {
	const rewritten, once, deleted = 300, 20, 10
	e := newEnv(t)
	if versioned {
		if err := e.st.S3().EnableVersioning(context.Background(), e.bucket); err != nil {
			t.Fatal(err)
		}
	}
	e.table("t")
	cfg := e.writeConfig("config.yaml", backfillTargets, "ledger:\n  schema: "+e.schema+"\n")

	var first, events []stack.ObjectEvent
	for i := range rewritten {
		key := fmt.Sprintf("obj/rewritten-%04d.json", i)
		v1 := e.put(key, object(key, firstVersionRows))
		time.Sleep(time.Microsecond) // the stack's sequencer is the event's clock
		v2 := e.put(key, object(key, secondVersionRows))
		if v1.ETag == v2.ETag || (versioned && v1.VersionID == v2.VersionID) {
			t.Fatalf("%s: both versions have eTag %s, version %q", key, v1.ETag, v1.VersionID)
		}
		first = append(first, v1)
		events = append(events, v1, v2)
	}
	for i := range once {
		key := fmt.Sprintf("obj/once-%04d.json", i)
		events = append(events, e.put(key, object(key, secondVersionRows)))
	}
	var gone []string
	for i := range deleted {
		key := fmt.Sprintf("obj/deleted-%04d.json", i)
		events = append(events, e.put(key, object(key, secondVersionRows)))
		if _, err := e.st.S3().Client().DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key)}); err != nil {
			t.Fatal(err)
		}
		gone = append(gone, key)
	}
	rand.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
	e.sendEvents(events)

	if code, out := e.run(2*time.Minute, "-config", cfg, "-batch"); code != 0 {
		t.Fatalf("rin -batch exited %d:\n%s", code, tail([]byte(out), 3000))
	}
	rows := e.rowsBySource("t")
	for _, ev := range events {
		want := secondVersionRows
		if strings.Contains(ev.Key, "deleted-") {
			want = 0
		}
		if rows[ev.Key] != want {
			t.Errorf("%s: %d rows, want %d (its current bytes, once)", ev.Key, rows[ev.Key], want)
		}
	}
	jobs := e.jobs()
	if n := len(jobs[journal.Failed]); n != 0 {
		t.Errorf("%d jobs failed: %+v", n, jobs[journal.Failed][0])
	}
	if got, want := len(jobs[journal.Acked])+len(jobs[journal.Superseded]), 2*rewritten+once; got != want {
		t.Errorf("%d jobs acked or superseded, want %d (every event but the deleted keys')", got, want)
	}
	loadedAs := 0
	for _, j := range jobs[journal.Acked] {
		if strings.Contains(j.Note, "loaded as that version") {
			loadedAs++
		}
	}
	t.Logf("%d older events superseded on arrival, %d loaded the rewritten key as its current version", len(jobs[journal.Superseded]), loadedAs)
	for _, j := range jobs[journal.Superseded] {
		if j.Note == "" || j.LastError != "" {
			t.Errorf("superseded job %s: note %q, last error %q; want a note and no error", j.Key, j.Note, j.LastError)
			break
		}
	}
	removed := map[string]bool{}
	for _, j := range jobs[journal.Removed] {
		removed[j.Key] = true
	}
	for _, k := range gone {
		if !removed[k] {
			t.Errorf("%s deleted before its COPY: not removed (removed: %d jobs)", k, len(removed))
		}
	}

	// The first versions' events again: older than what was seen, they
	// end superseded on arrival, and nothing is COPYed.
	copies := e.st.Redshift().Stats().Copies
	e.sendEvents(first)
	if code, out := e.run(time.Minute, "-config", cfg, "-batch"); code != 0 {
		t.Fatalf("rin -batch with the old events exited %d:\n%s", code, tail([]byte(out), 3000))
	}
	if got := e.st.Redshift().Stats().Copies; got != copies {
		t.Errorf("late events of first versions caused %d COPYs, want none", got-copies)
	}

	// A key rewritten after it loaded loads again: a new version.
	key := first[0].Key
	e.sendEvents([]stack.ObjectEvent{e.put(key, object(key, 1))})
	if code, out := e.run(time.Minute, "-config", cfg, "-batch"); code != 0 {
		t.Fatalf("rin -batch after a rewrite exited %d:\n%s", code, tail([]byte(out), 3000))
	}
	if got := e.rowsBySource("t")[key]; got != secondVersionRows+1 {
		t.Errorf("%s rewritten after loading: %d rows, want %d (both versions, once each)", key, got, secondVersionRows+1)
	}
	e.assertNoSecrets()
}

// TestOverwritesSkip: with overwrites: skip a key loads once, from the
// first of its events rin sees; the other ends superseded on arrival.
func TestOverwritesSkip(t *testing.T) {
	const keys = 50
	e := newEnv(t)
	e.table("t")
	cfg := e.writeConfig("config.yaml", backfillTargets, "ledger:\n  schema: "+e.schema+"\noverwrites: skip\n")
	var events []stack.ObjectEvent
	for i := range keys {
		key := fmt.Sprintf("obj/k-%04d.json", i)
		events = append(events, e.put(key, object(key, firstVersionRows)))
		time.Sleep(time.Microsecond)
		events = append(events, e.put(key, object(key, secondVersionRows)))
	}
	rand.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
	e.sendEvents(events)
	if code, out := e.run(time.Minute, "-config", cfg, "-batch"); code != 0 {
		t.Fatalf("rin -batch exited %d:\n%s", code, tail([]byte(out), 3000))
	}
	rows := e.rowsBySource("t")
	for _, ev := range events {
		if rows[ev.Key] != secondVersionRows { // whichever event loaded, the key held the second version
			t.Errorf("%s: %d rows, want %d (loaded once)", ev.Key, rows[ev.Key], secondVersionRows)
		}
	}
	jobs := e.jobs()
	if len(jobs[journal.Acked]) != keys || len(jobs[journal.Superseded]) != keys {
		t.Errorf("%d acked, %d superseded; want %d of each", len(jobs[journal.Acked]), len(jobs[journal.Superseded]), keys)
	}
	for _, j := range jobs[journal.Superseded] {
		if !strings.Contains(j.Note, "overwrites: skip") {
			t.Errorf("superseded job %s: note %q, want it to name overwrites: skip", j.Key, j.Note)
			break
		}
	}
}

// TestEventETagNotTheObjects: events whose eTag is not the object's (the
// AWS documentation's sample eTag, as hand-made and test events carry)
// still load the object, once: the check before the COPY loads what the
// key holds, as that version, instead of dropping the event.
func TestEventETagNotTheObjects(t *testing.T) {
	const n = 20
	e := newEnv(t)
	e.table("t")
	cfg := e.writeConfig("config.yaml", backfillTargets, "ledger:\n  schema: "+e.schema+"\n")
	var events []stack.ObjectEvent
	var keys []string
	for i := range n {
		key := fmt.Sprintf("obj/sample-%04d.json", i)
		ev := e.put(key, object(key, backfillRows))
		ev.ETag = "0123456789abcdef0123456789abcdef"
		events = append(events, ev)
		keys = append(keys, key)
	}
	for range 2 { // the second time: already loaded, nothing COPYed
		e.sendEvents(events)
		if code, out := e.run(time.Minute, "-config", cfg, "-batch"); code != 0 {
			t.Fatalf("rin -batch exited %d:\n%s", code, tail([]byte(out), 3000))
		}
		e.checkRowsOnce(keys)
	}
	if jobs := e.jobs(); len(jobs[journal.Acked]) != n || len(jobs) != 1 {
		t.Errorf("journal: %d acked of %d, %d states; want all acked", len(jobs[journal.Acked]), n, len(jobs))
	}
}

// TestDeletedObjectRemovedWithoutCheck: with overwrites: unchecked no
// request tells rin an object was deleted after its event; the COPY does
// (the simulator answers as Redshift, NoSuchKey for the manifest's entry),
// the batch is split down to that object, and its job ends removed, not
// failed, while the others load.
func TestDeletedObjectRemovedWithoutCheck(t *testing.T) {
	e := newEnv(t)
	e.table("t")
	cfg := e.writeConfig("config.yaml", backfillTargets, "ledger:\n  schema: "+e.schema+"\noverwrites: unchecked\n")
	var events []stack.ObjectEvent
	var keys []string
	for i := range 6 {
		key := fmt.Sprintf("obj/u-%02d.json", i)
		events = append(events, e.put(key, object(key, backfillRows)))
		if i != 3 {
			keys = append(keys, key)
		}
	}
	if _, err := e.st.S3().Client().DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(events[3].Key)}); err != nil {
		t.Fatal(err)
	}
	e.sendEvents(events)
	if code, out := e.run(time.Minute, "-config", cfg, "-batch"); code != 0 {
		t.Fatalf("rin -batch exited %d:\n%s", code, tail([]byte(out), 3000))
	}
	e.checkRowsOnce(keys)
	jobs := e.jobs()
	if len(jobs[journal.Removed]) != 1 || jobs[journal.Removed][0].Key != events[3].Key || len(jobs[journal.Failed]) != 0 {
		t.Fatalf("removed %d, failed %d; want the deleted object removed, nothing failed", len(jobs[journal.Removed]), len(jobs[journal.Failed]))
	}
	if note := jobs[journal.Removed][0].Note; !strings.Contains(note, "does not exist") {
		t.Errorf("removed job's note %q; want Redshift's text for the missing object", note)
	}
}
