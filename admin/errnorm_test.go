package admin

import (
	"fmt"
	"testing"
	"time"

	"github.com/rinhq/rin/journal"
)

// 1,000 jobs held by the same access-denied fault, each with its own
// manifest, request ids and batch, are one line of rin-journal stats; a
// different fault is another line.
func TestStatsGroupsRecurringErrors(t *testing.T) {
	errs := map[string]*ErrorCount{}
	now := time.Now()
	for i := range 1000 {
		msg := fmt.Sprintf("COPY into \"public\".\"events\" from s3://logs/_rin/manifests/20261206T03%04d-%016x.manifest: pq: Problem reading manifest file - S3ServiceException:Access Denied,Status 403,Error AccessDenied,Rid %X,ExtRid q%dZx/b=,CanRetry 1",
			i, i*7919, 1e9+i, i)
		countError(errs, journal.Job{ID: fmt.Sprint("j", i), State: journal.Received, LastError: msg, Updated: now}, now, 0)
	}
	countError(errs, journal.Job{ID: "x", State: journal.Failed, LastError: "COPY into \"public\".\"events\" from s3://logs/_rin/manifests/20261206T034308-0123456789abcdef.manifest: pq: Load into table 'events' failed.  Check 'stl_load_errors' system table for details.", Updated: now}, now, 0)
	top := topErrors(errs, 5)
	if len(top) != 2 {
		for _, e := range top {
			t.Log(e.Jobs, e.Error)
		}
		t.Fatalf("%d groups; want 2", len(top))
	}
	if top[0].Jobs != 1000 || top[0].Retrying != 1000 || top[1].Failed != 1 {
		t.Fatalf("groups %+v", top)
	}
	want := `COPY into "public"."events" from s3://logs/…/<batch>.manifest: pq: Problem reading manifest file - S3ServiceException:Access Denied,Status 403,Error AccessDenied,Rid <id>,ExtRid <id>,CanRetry 1`
	if top[0].Error != want {
		t.Fatalf("normalized:\n got %s\nwant %s", top[0].Error, want)
	}
}
