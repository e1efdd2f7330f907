package backfill

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rinhq/rin/admin"
	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/journal"
	"github.com/rinhq/rin/redshift"
)

// fakeJournal serves records as Dump does.
type fakeJournal []admin.Record

func (f fakeJournal) Dump(_ context.Context, flt admin.Filter, fn func(admin.Record) error) error {
	for _, r := range f {
		if strings.HasPrefix(r.URI, flt.KeyPrefix) {
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	return nil
}

func record(j journal.Job, s journal.State) admin.Record {
	j.State, j.LastError, j.Attempts = s, "boom", 2
	return admin.NewRecord(j)
}

// Every reason, each from where reconcile reads it: the ledger (loaded,
// superseded, gone), the journal (loaded, pending, held with the running
// rin's holds, failed), neither (no event seen); and -since.
func TestReconcileReasons(t *testing.T) {
	f := &fakeS3{}
	keys := []string{"in/ledger", "in/acked", "in/noevent", "in/pending", "in/held", "in/failed", "in/over", "in/changed", "other/x"}
	for _, k := range keys {
		f.put(k, "e-"+k, t0.Add(time.Hour))
	}
	f.put("in/old", "e-in/old", t0.Add(-time.Hour))
	row := func(key, version string, at time.Time) redshift.LedgerRow {
		j := jobOf(t, key, version)
		return redshift.LedgerRow{JobID: j.ID, Target: j.Target, URI: j.URI(), Version: version, LoadedAt: at}
	}
	ledger := &fakeLedger{rows: []redshift.LedgerRow{
		row("in/ledger", "e-in/ledger", t0.Add(2*time.Hour)),
		row("in/over", "e-old-version", t0.Add(2*time.Hour)),
		row("in/gone", "e-in/gone", t0.Add(2*time.Hour)),
		row("in/gone-long-ago", "e", t0.Add(-2*time.Hour)),
		row("in/old", "e-in/old", t0.Add(-time.Hour)),
	}}
	held := jobOf(t, "in/held", "e-in/held")
	jr := fakeJournal{
		record(jobOf(t, "in/acked", "e-in/acked"), journal.Acked),
		record(jobOf(t, "in/pending", "e-in/pending"), journal.Copying),
		record(held, journal.Received),
		record(jobOf(t, "in/failed", "e-in/failed"), journal.Failed),
		record(jobOf(t, "in/changed", "e-in/changed"), journal.Superseded), // rewritten since it was listed
	}
	rep, err := Reconcile(context.Background(), ReconcileOptions{
		Sources: []Source{{Bucket: "b", Prefix: ""}}, Since: t0, S3: f, Router: testRouter(t),
		Journal: jr, Holds: []fsm.Hold{{Scope: "table", Name: held.Endpoint + "/s.t", LastError: `relation "s.t" does not exist`}},
		Ledgers: map[string]LedgerRows{held.Endpoint: ledger},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Targets) != 1 {
		t.Fatalf("targets %+v", rep.Targets)
	}
	tr := rep.Targets[0]
	got := map[string]string{}
	for _, m := range tr.Missing {
		got[strings.TrimPrefix(m.URI, "s3://b/")] = m.Reason
	}
	want := map[string]string{"in/noevent": ReasonNoEvent, "in/pending": ReasonPending, "in/held": ReasonHeld, "in/failed": ReasonFailed, "in/over": ReasonSuperseded, "in/changed": ReasonSuperseded}
	if len(got) != len(want) {
		t.Errorf("missing %v, want %v", got, want)
	}
	for k, r := range want {
		if got[k] != r {
			t.Errorf("%s: reason %q, want %q", k, got[k], r)
		}
	}
	if tr.InS3 != 8 || tr.Loaded != 2 || rep.Objects != 9 || rep.Unrouted != 1 || rep.Missing != 6 {
		t.Errorf("in S3 %d, loaded %d, objects %d, unrouted %d, missing %d; want 8, 2, 9, 1, 6", tr.InS3, tr.Loaded, rep.Objects, rep.Unrouted, rep.Missing)
	}
	if len(tr.Gone) != 1 || tr.Gone[0].URI != "s3://b/in/gone" {
		t.Errorf("gone %+v; want in/gone only (in/old is in S3, in/gone-long-ago before -since)", tr.Gone)
	}
	var table bytes.Buffer
	if err := rep.Write(&table, 0); err != nil || !strings.Contains(table.String(), "no event seen  s3://b/in/noevent") {
		t.Errorf("table:\n%s", table.String())
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Error(err)
	}
}
