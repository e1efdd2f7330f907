package admin

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rinhq/rin/journal"
)

// modes runs fn against a freshly filled journal offline (Local) and live
// (through a real admin server on a unix socket, with a real engine).
func modes(t *testing.T, fn func(t *testing.T, svc Service, j *journal.Journal)) {
	t.Run("offline", func(t *testing.T) {
		j := openJournal(t)
		fill(t, j)
		fn(t, &Local{Journal: j}, j)
	})
	t.Run("live", func(t *testing.T) {
		j := openJournal(t)
		fill(t, j)
		_, c, _ := startServer(t, j, newEngine(j))
		fn(t, c, j)
	})
}

func TestDumpFilters(t *testing.T) {
	modes(t, func(t *testing.T, svc Service, j *journal.Journal) {
		for _, tc := range []struct {
			name string
			f    Filter
			want string
		}{
			{"all", Filter{}, "a1,a2,r1,c1,d1,a3,f1,f2,f3"},
			{"state", Filter{State: journal.Failed}, "f1,f2,f3"},
			{"target", Filter{Target: "targets[1]"}, "a2,c1,f2,f3"},
			{"state and target", Filter{State: journal.Failed, Target: "targets[0]"}, "f1"},
			{"key prefix", Filter{KeyPrefix: "app/2025/06/"}, "r1,d1,a3,f1"},
			{"uri prefix", Filter{KeyPrefix: "s3://logs/web/"}, "a2,c1,f2,f3"},
			{"older than", Filter{OlderThan: 5 * 24 * time.Hour}, "a1,a2"},
			{"newer than", Filter{NewerThan: 5 * 24 * time.Hour, State: journal.Acked}, "a3"},
			{"limit", Filter{Limit: 2}, "a1,a2"},
			{"nothing", Filter{Target: "targets[9]"}, ""},
		} {
			if got := dumpIDs(t, svc, tc.f); got != tc.want {
				t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
			}
		}
		err := svc.Dump(context.Background(), Filter{State: "done"}, func(Record) error { return nil })
		if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), `unknown state "done"`) {
			t.Errorf("unknown state: %v", err)
		}
	})
}

func TestDumpRecord(t *testing.T) {
	modes(t, func(t *testing.T, svc Service, j *journal.Journal) {
		var got []Record
		svc.Dump(context.Background(), Filter{State: journal.Failed, Limit: 1}, func(r Record) error { got = append(got, r); return nil })
		if len(got) != 1 {
			t.Fatalf("got %d records", len(got))
		}
		r := got[0]
		if r.ID != "f1" || r.URI != "s3://logs/app/2025/06/01/f1.json" || r.LastError != missingTable || r.Attempts != 3 || r.Target != "targets[0]" || r.Created.IsZero() || r.CopiedAt != nil {
			t.Errorf("record: %+v", r)
		}
	})
}

func TestStats(t *testing.T) {
	modes(t, func(t *testing.T, svc Service, j *journal.Journal) {
		st, err := svc.Stats(context.Background(), StatsOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := map[journal.State]int{journal.Received: 1, journal.Copying: 1, journal.Copied: 1, journal.Acked: 3, journal.Failed: 3}
		for s, n := range want {
			if st.States[s] != n {
				t.Errorf("state %s: %d, want %d", s, st.States[s], n)
			}
		}
		if st.Total != 9 || len(st.Targets) != 2 || st.Targets[0].Target != "targets[0]" || st.Targets[1].States[journal.Failed] != 2 {
			t.Errorf("stats: %+v", st)
		}
		if st.OldestPending == nil || st.OldestPending.AgeSeconds < 3500 {
			t.Errorf("oldest pending: %+v", st.OldestPending)
		}
		if len(st.Errors) != 2 || st.Errors[0].Error != missingTable || st.Errors[0].Jobs != 3 || st.Errors[0].Failed != 2 || st.Errors[0].Retrying != 1 {
			t.Errorf("errors: %+v", st.Errors)
		}
		st, err = svc.Stats(context.Background(), StatsOptions{TopErrors: 1})
		if err != nil || len(st.Errors) != 1 {
			t.Errorf("top 1: %v %+v", err, st.Errors)
		}
	})
}

func TestRequeue(t *testing.T) {
	modes(t, func(t *testing.T, svc Service, j *journal.Journal) {
		ctx := context.Background()
		before := states(t, j)
		for _, tc := range []struct {
			req  RequeueRequest
			want error
			text string
		}{
			{RequeueRequest{IDs: []string{"f1", "nope"}}, journal.ErrNotFound, "job nope: no such job"},
			{RequeueRequest{IDs: []string{"f1", "a3"}}, journal.ErrNotFailed, "job a3 is acked"},
			{RequeueRequest{}, ErrBadRequest, "no job ids"},
			{RequeueRequest{IDs: []string{"f1"}, AllFailed: true}, ErrBadRequest, "not both"},
			{RequeueRequest{IDs: []string{"f1"}, Target: "targets[0]"}, ErrBadRequest, "cannot narrow"},
		} {
			_, err := svc.Requeue(ctx, tc.req)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("%+v: %v, want %v (%q)", tc.req, err, tc.want, tc.text)
			}
		}
		if after := states(t, j); !equal(before, after) {
			t.Fatalf("a refused requeue changed the journal: %v → %v", before, after)
		}

		recs, err := svc.Requeue(ctx, RequeueRequest{IDs: []string{"f1", "f1"}})
		if err != nil || ids(recs) != "f1" || recs[0].State != journal.Received || recs[0].Attempts != 0 {
			t.Fatalf("requeue f1: %v %+v", err, recs)
		}
		recs, err = svc.Requeue(ctx, RequeueRequest{AllFailed: true, Target: "targets[1]"})
		if err != nil || ids(recs) != "f2,f3" {
			t.Fatalf("requeue failed of targets[1]: %v %s", err, ids(recs))
		}
		recs, err = svc.Requeue(ctx, RequeueRequest{AllFailed: true})
		if err != nil || len(recs) != 0 {
			t.Fatalf("nothing left to requeue: %v %s", err, ids(recs))
		}
		s := states(t, j)
		if s["f1"] != journal.Received || s["f2"] != journal.Received || s["f3"] != journal.Received {
			t.Errorf("states after requeue: %v", s)
		}
	})
}

// TestRequeueReachesEngine: live, requeued jobs become the engine's pending
// work at once, not after a restart.
func TestRequeueReachesEngine(t *testing.T) {
	j := openJournal(t)
	fill(t, j)
	eng := newEngine(j)
	_, c, _ := startServer(t, j, eng)
	if _, err := c.Requeue(context.Background(), RequeueRequest{AllFailed: true}); err != nil {
		t.Fatal(err)
	}
	if p := eng.Stats().Pending; p != 3 {
		t.Errorf("engine pending = %d, want the 3 requeued jobs", p)
	}
}

func TestForget(t *testing.T) {
	modes(t, func(t *testing.T, svc Service, j *journal.Journal) {
		ctx := context.Background()
		if _, err := svc.Forget(ctx, 0); !errors.Is(err, ErrBadRequest) {
			t.Errorf("forget 0: %v", err)
		}
		res, err := svc.Forget(ctx, 7*24*time.Hour)
		if err != nil || res.Forgotten != 2 {
			t.Fatalf("forget: %v %+v", err, res)
		}
		if got := dumpIDs(t, svc, Filter{}); got != "r1,c1,d1,a3,f1,f2,f3" {
			t.Errorf("left: %s", got)
		}
	})
}

func TestCheck(t *testing.T) {
	modes(t, func(t *testing.T, svc Service, j *journal.Journal) {
		problems, err := svc.Check(context.Background())
		if err != nil || len(problems) != 0 {
			t.Errorf("check: %v %v", err, problems)
		}
	})
}

// Retention forgets what is older than Keep at start, then at every Every.
// In a synctest bubble: its passes come at exact fake times, so the test
// waits for each (synctest.Wait) instead of polling, and can let a week go
// by in an instant.
func TestRetention(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := openJournal(t)
		fill(t, j) // a1, a2 acked ten days ago, a3 acked now
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			Retention{Journal: j, Keep: 7 * 24 * time.Hour, Every: time.Hour, Logger: quiet()}.Run(ctx)
		}()
		synctest.Wait() // the pass at start is over
		if s := states(t, j); len(s) != 7 || s["a1"] != "" || s["a2"] != "" || s["a3"] != journal.Acked {
			t.Errorf("after the first pass: %v", s)
		}
		// a3 turns a week old at 7 d; the hourly passes forget it by 7 d 1 h.
		time.Sleep(7*24*time.Hour - 30*time.Minute)
		synctest.Wait()
		if s := states(t, j); len(s) != 7 || s["a3"] != journal.Acked {
			t.Errorf("a3 forgotten before it was a week old: %v", s)
		}
		time.Sleep(2 * time.Hour)
		synctest.Wait()
		if s := states(t, j); len(s) != 6 || s["a3"] != "" {
			t.Errorf("a week and an hour on, only a3 should have gone: %v", s)
		}
		cancel()
		<-done
	})
}

func equal(a, b map[string]journal.State) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
