package backfill

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rinhq/rin/journal"
)

var t0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// Listing pages through S3, drops the listing's quotes around the ETag
// (events carry none), keeps -since/-until and leaves rin's manifests out.
func TestListCurrent(t *testing.T) {
	f := &fakeS3{}
	for i := range 7 {
		f.put(fmt.Sprintf("in/%d", i), fmt.Sprintf("etag%d", i), t0.Add(time.Duration(i)*time.Hour))
	}
	f.put("in/_rin/m.manifest", "m", t0)
	var got []string
	st, err := List(context.Background(), f, Source{Bucket: "b", Prefix: "in/"}, ListOptions{
		PageSize: 3, Since: t0.Add(time.Hour), Until: t0.Add(6 * time.Hour),
		Skip: func(_, key string) bool { return strings.Contains(key, "_rin/") },
	}, func(objs []Object) error {
		for _, o := range objs {
			got = append(got, o.Key+"="+o.ETag)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "in/1=etag1 in/2=etag2 in/3=etag3 in/4=etag4 in/5=etag5"; strings.Join(got, " ") != want {
		t.Fatalf("listed %v, want %s", got, want)
	}
	if st.Skipped != 1 || st.OutOfRange != 2 || f.calls != 3 {
		t.Fatalf("stats %+v after %d calls; want 1 skipped, 2 out of range, 3 pages", st, f.calls)
	}
}

// In a versioned bucket each key's latest version is listed with its
// versionId (what its event carries); a key whose latest version is a
// delete marker is gone.
func TestListVersions(t *testing.T) {
	f := &fakeS3{versioned: true}
	f.put("in/a", "a1", t0)
	f.put("in/a", "a2", t0.Add(time.Hour))
	f.put("in/b", "b1", t0)
	f.put("in/c", "c1", t0)
	f.versions = append(f.versions[:3], append([]version{{key: "in/c", id: "dm", deleteMarker: true}}, f.versions[3:]...)...)
	var got []string
	_, err := List(context.Background(), f, Source{Bucket: "b", Prefix: "in/"}, ListOptions{PageSize: 1}, func(objs []Object) error {
		for _, o := range objs {
			got = append(got, o.Key+"@"+o.VersionID+"="+o.ETag)
			if r := o.Record(); r.Version() != o.VersionID {
				t.Errorf("%s: record version %q, want the versionId", o.Key, r.Version())
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "in/a@v2=a2 in/b@v3=b1"; strings.Join(got, " ") != want {
		t.Fatalf("listed %v, want %s", got, want)
	}
}

// Run settles what the journal and the ledger know, follows jobs pending
// in rin, submits the rest, and counts per target; a dry run submits
// nothing.
func TestRunSortsSubmitsAndFollows(t *testing.T) {
	f := &fakeS3{}
	for _, k := range []string{"in/acked", "in/ledger", "in/pending", "in/failed", "in/new1", "in/new2", "in/rewritten", "other/x", "skip/y"} {
		f.put(k, "e-"+k, t0)
	}
	sink := newFakeSink()
	sink.set(jobOf(t, "in/acked", "e-in/acked"), journal.Acked, "", true)
	sink.set(jobOf(t, "in/pending", "e-in/pending"), journal.Received, "", false)
	sink.set(jobOf(t, "in/failed", "e-in/failed"), journal.Failed, "", true)
	sink.set(jobOf(t, "in/rewritten", "e-in/rewritten"), journal.Superseded, "", true)
	ledger := &fakeLedger{ids: map[string]bool{jobOf(t, "in/ledger", "e-in/ledger").ID: true}}
	opts := Options{
		Sources: []Source{{Bucket: "b"}}, S3: f, Router: testRouter(t), Sink: sink,
		Ledger: func(string) (Ledger, error) { return ledger, nil }, Poll: time.Millisecond,
	}
	dry := opts
	dry.DryRun = true
	sum, err := Run(context.Background(), dry)
	if err != nil {
		t.Fatal(err)
	}
	if len(sink.submitted) != 0 || sum.total(outWouldLoad) != 2 || sum.total(outAlready) != 2 || sum.total(outPending) != 1 {
		t.Fatalf("dry run: submitted %v, summary %+v", sink.submitted, sum.targets["targets[1]"])
	}

	sink.set(jobOf(t, "in/pending", "e-in/pending"), journal.Received, "", false) // the fake loaded it at the dry run's look
	var last Progress
	opts.Progress = func(p Progress) { last = p }
	sum, err = Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := sum.targets["targets[1]"]
	if got := fmt.Sprint(ts.counts); got != "[2 3 0 0 0 1 1]" { // already, loaded, would, pending, held, failed, changed
		t.Fatalf("counts %s; want 2 already (journal, ledger), 3 loaded (2 new, 1 followed), 1 failed, 1 changed (superseded)", got)
	}
	if sum.Objects != 9 || sum.Unrouted != 1 || sum.Discarded != 1 || sum.Complete() {
		t.Fatalf("summary %+v; want 9 objects, 1 unrouted, 1 discarded, incomplete (a failed job)", sum)
	}
	if len(sink.submitted) != 1 || len(sink.submitted[0]) != 2 {
		t.Fatalf("submitted %v; want the 2 new jobs once", sink.submitted)
	}
	if !last.ListingDone || last.Queued != 3 || last.Loaded != 3 || last.Already != 2 || last.Failed != 1 {
		t.Fatalf("last progress %+v", last)
	}
	var out bytes.Buffer
	if err := sum.Write(&out); err != nil || !regexp.MustCompile(`failed +s3://b/in/failed`).MatchString(out.String()) {
		t.Fatalf("summary table:\n%s", out.String())
	}

	// Again: everything is known now, nothing is submitted.
	sink.submitted = nil
	if sum, err = Run(context.Background(), opts); err != nil || len(sink.submitted) != 0 || sum.total(outAlready) != 5 {
		t.Fatalf("second run: %v, submitted %v, %d already loaded", err, sink.submitted, sum.total(outAlready))
	}
}

// No more than MaxPending of backfill's jobs are outstanding in rin.
func TestRunBoundsOutstanding(t *testing.T) {
	f := &fakeS3{}
	for i := range 50 {
		f.put(fmt.Sprintf("in/%02d", i), fmt.Sprint(i), t0)
	}
	sink := newFakeSink()
	sum, err := Run(context.Background(), Options{
		Sources: []Source{{Bucket: "b"}}, List: ListOptions{PageSize: 4}, S3: f, Router: testRouter(t), Sink: sink,
		MaxPending: 10, Poll: time.Millisecond,
	})
	if err != nil || !sum.Complete() || sum.total(outLoaded) != 50 {
		t.Fatalf("Run: %v, %d loaded", err, sum.total(outLoaded))
	}
	if sink.maxOut > 10 {
		t.Fatalf("%d jobs outstanding at once, want at most 10", sink.maxOut)
	}
}

// A run cut short counts what it still followed as pending or held.
func TestRunStoppedEarly(t *testing.T) {
	f := &fakeS3{}
	f.put("in/held", "h", t0)
	f.put("in/slow", "s", t0)
	sink := newFakeSink()
	sink.set(jobOf(t, "in/held", "h"), journal.Received, "table ep/s.t", true)
	sink.set(jobOf(t, "in/slow", "s"), journal.Received, "", true)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	sum, err := Run(ctx, Options{Sources: []Source{{Bucket: "b"}}, S3: f, Router: testRouter(t), Sink: sink, Poll: time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run: %v", err)
	}
	if sum.total(outHeld) != 1 || sum.total(outPending) != 1 || sum.Complete() {
		t.Fatalf("counts %v", sum.targets["targets[1]"].counts)
	}
}

func TestParseSource(t *testing.T) {
	for in, want := range map[string]Source{"s3://b/p/q/": {"b", "p/q/"}, "s3://b": {"b", ""}, "s3://b/": {"b", ""}} {
		if got, err := ParseSource(in); err != nil || got != want {
			t.Errorf("ParseSource(%q) = %+v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"b/p", "s3:///p", "https://b/p"} {
		if _, err := ParseSource(bad); err == nil {
			t.Errorf("ParseSource(%q) accepted", bad)
		}
	}
}
