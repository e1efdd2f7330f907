package admin

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rinhq/rin/journal"
)

// hostileBody is a poison message as a careless or hostile sender writes
// it: control characters, a terminal escape, non-ASCII text.
const hostileBody = "not json\n\t\x1b[31mred\x1b[0m ünïcode \u202etxt.exe"

// reject journals rejected messages m1 (ten days ago), m2 (two hours ago)
// and m3 (now).
func reject(t testing.TB, j *journal.Journal) {
	t.Helper()
	now := time.Now()
	put(t, j,
		journal.Rejected{ID: "m1", Reason: "invalid character 'o' in literal null (expecting 'u')", Body: "nope", Rejected: now.Add(-10 * 24 * time.Hour)},
		journal.Rejected{ID: "m2", Reason: "no Records", Body: `{"Records":[]}`, Rejected: now.Add(-2 * time.Hour)},
		journal.Rejected{ID: "m3", Reason: "invalid character 'o' in literal null (expecting 'u')", Body: hostileBody, Rejected: now},
	)
}

func put(t testing.TB, j *journal.Journal, rs ...journal.Rejected) {
	t.Helper()
	if err := j.Update(func(tx *journal.Tx) error {
		for _, r := range rs {
			if err := tx.PutRejected(r); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func rejectedIDs(t *testing.T, svc Service, f RejectedFilter) ([]RejectedRecord, string) {
	t.Helper()
	var recs []RejectedRecord
	if err := svc.Rejected(context.Background(), f, func(r RejectedRecord) error { recs = append(recs, r); return nil }); err != nil {
		t.Fatalf("rejected %+v: %v", f, err)
	}
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	return recs, strings.Join(ids, ",")
}

func TestRejected(t *testing.T) {
	modes(t, func(t *testing.T, svc Service, j *journal.Journal) {
		if _, got := rejectedIDs(t, svc, RejectedFilter{}); got != "" {
			t.Errorf("before any rejection: %q", got)
		}
		reject(t, j)
		for _, tc := range []struct {
			name string
			f    RejectedFilter
			want string
		}{
			{"all, newest first", RejectedFilter{}, "m3,m2,m1"},
			{"since", RejectedFilter{Since: 24 * time.Hour}, "m3,m2"},
			{"limit keeps the newest", RejectedFilter{Limit: 2}, "m3,m2"},
			{"since and limit", RejectedFilter{Since: time.Hour, Limit: 5}, "m3"},
		} {
			if _, got := rejectedIDs(t, svc, tc.f); got != tc.want {
				t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
			}
		}
		recs, _ := rejectedIDs(t, svc, RejectedFilter{Limit: 1})
		if r := recs[0]; r.Body != hostileBody || !strings.HasPrefix(r.Reason, "invalid character") || time.Since(r.Rejected) > time.Minute {
			t.Errorf("record: %+v", r)
		}
		err := svc.Rejected(context.Background(), RejectedFilter{Limit: -1}, func(RejectedRecord) error { return nil })
		if !errors.Is(err, ErrBadRequest) {
			t.Errorf("negative limit: %v", err)
		}
		st, err := svc.Stats(context.Background(), StatsOptions{})
		if err != nil || st.RejectedMessages != 3 || st.UndeletedMessages != 0 {
			t.Errorf("stats: %v rejected %d", err, st.RejectedMessages)
		}
	})
}

// TestRejectedLimitAmongMany: the newest survive the trimming done while
// walking, whatever their place in id order.
func TestRejectedLimitAmongMany(t *testing.T) {
	j := openJournal(t)
	t0 := time.Now()
	var rs []journal.Rejected
	for i := range 50 {
		// Ids run against time: the newest sort last.
		rs = append(rs, journal.Rejected{ID: fmt.Sprintf("m%02d", i), Body: "x", Rejected: t0.Add(-time.Duration(50-i) * time.Minute)})
	}
	put(t, j, rs...)
	if _, got := rejectedIDs(t, &Local{Journal: j}, RejectedFilter{Limit: 3}); got != "m49,m48,m47" {
		t.Errorf("limit 3: %s", got)
	}
}

func TestRejectedQuery(t *testing.T) {
	f := RejectedFilter{Since: 90 * time.Minute, Limit: 7}
	got, err := rejectedFilterFromQuery(f.query())
	if err != nil || got != f {
		t.Errorf("round trip: %+v %v", got, err)
	}
	for _, q := range []string{"limit=-1", "limit=x", "since=soon"} {
		v, _ := url.ParseQuery(q)
		if _, err := rejectedFilterFromQuery(v); !errors.Is(err, ErrBadRequest) {
			t.Errorf("%s: %v", q, err)
		}
	}
}

// TestRejectedErrorOverWire: an error on the server is a status and a
// restored sentinel, not an empty list.
func TestRejectedErrorOverWire(t *testing.T) {
	j := openJournal(t)
	_, c, _ := startServer(t, j, nil)
	resp, err := c.request(context.Background(), "GET", "/v1/rejected?since=soon", nil)
	if err == nil {
		resp.Body.Close()
	}
	if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), `since "soon"`) {
		t.Errorf("bad since: %v", err)
	}
}
