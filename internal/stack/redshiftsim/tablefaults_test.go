package redshiftsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// Per-table failures hit only the COPYs into their table.

func TestFailNextCopiesInto(t *testing.T) {
	e := newEnv(t)
	a, b := e.table("id int, name text"), e.table("id int, name text")
	e.put("tf/a.json", jsonLines(1))
	copyInto := func(table string) error {
		_, err := e.db.ExecContext(e.ctx, e.copyJSON(table, "tf/"))
		return err
	}

	e.srv.FailNextCopiesInto("public."+strings.ToUpper(a), 2, "XX000", "boom in a")
	e.srv.FailNextCopiesInto("other."+b, 5, "XX000", "schema-less b") // another schema's b
	if err := copyInto("public." + b); err != nil {
		t.Fatalf("COPY into public.b: %v", err)
	}
	for i := range 2 {
		pe := pqError(t, copyInto("public."+a))
		if pe.Code != "XX000" || pe.Message != "boom in a" {
			t.Fatalf("COPY %d into a: %s %q", i, pe.Code, pe.Message)
		}
		if i == 0 {
			// The global fault comes first and leaves the table's alone.
			e.srv.FailNextCopies(1, "57P01", "terminating connection due to administrator command")
			if pe := pqError(t, copyInto(a)); pe.Code != "57P01" {
				t.Fatalf("global fault: %s %q", pe.Code, pe.Message)
			}
		}
	}
	if err := copyInto(a); err != nil {
		t.Fatalf("third COPY into a: %v", err)
	}
	f := e.srv.Faults()
	if len(f.TableFailures) != 2 || f.TableFailures[0].Remaining != 0 || f.TableFailures[1].Table != "other."+b || f.TableFailures[1].Remaining != 5 {
		t.Fatalf("faults = %+v", f)
	}
	// A rule with a schema also matches a COPY that names none: the
	// simulator does not resolve search_path.
	if pe := pqError(t, copyInto(b)); pe.Message != "schema-less b" {
		t.Fatalf("COPY into bare b: %q", pe.Message)
	}
	e.srv.FailNextCopiesInto("other."+b, 0, "", "") // removes the rule
	e.srv.FailNextCopiesInto(a, 1, "", "")
	if f := e.srv.Faults(); len(f.TableFailures) != 2 || f.TableFailures[1].Message != "redshiftsim: injected COPY failure" {
		t.Fatalf("faults = %+v", f)
	}
	e.srv.ResetFaults()
	if err := copyInto(a); err != nil || len(e.srv.Faults().TableFailures) != 0 {
		t.Fatalf("after reset: %v, %+v", err, e.srv.Faults())
	}
	if na, nb := e.count(a), e.count(b); na != 2 || nb != 1 {
		t.Fatalf("rows: a %d, b %d", na, nb)
	}
}

var detail1023 = regexp.MustCompile(`^Serializable isolation violation on table - \d+, transactions forming the cycle are: \d+, \d+ \(pid:\d+\)$`)

func TestSerializationConflictsInto(t *testing.T) {
	e := newEnv(t)
	tbl := e.table("id int, name text")
	e.put("ser/a.json", jsonLines(1))
	e.srv.SerializationConflictsInto(tbl, 2)

	// lib/pq
	_, err := e.db.ExecContext(e.ctx, e.copyJSON(tbl, "ser/"))
	pe := pqError(t, err)
	if pe.Code != "XX000" || pe.Message != "1023" || !detail1023.MatchString(pe.Detail) {
		t.Fatalf("lib/pq: %s %q detail %q", pe.Code, pe.Message, pe.Detail)
	}
	// pgx, extended protocol
	conn := e.pgxConn()
	_, err = conn.Exec(e.ctx, e.copyJSON(tbl, "ser/"))
	var pg *pgconn.PgError
	if !errors.As(err, &pg) || pg.Code != "XX000" || pg.Message != "1023" || !detail1023.MatchString(pg.Detail) {
		t.Fatalf("pgx: %v (detail %q)", err, pg.Detail)
	}
	if _, err := conn.Exec(e.ctx, e.copyJSON(tbl, "ser/")); err != nil {
		t.Fatalf("third COPY: %v", err)
	}
	if f := e.srv.Faults(); len(f.TableFailures) != 1 || !f.TableFailures[0].Serialization || f.TableFailures[0].Remaining != 0 {
		t.Fatalf("faults = %+v", f)
	}
}

// The new faults are reachable over HTTP too, and reset with the rest.
func TestControlHandlerFaultRoutes(t *testing.T) {
	e := newEnv(t)
	hs := httptest.NewServer(e.srv.ControlHandler())
	defer hs.Close()
	post := func(path string, q url.Values, want int) FaultState {
		t.Helper()
		resp, err := http.PostForm(hs.URL+path, q)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("POST %s: %s, want %d", path, resp.Status, want)
		}
		var f FaultState
		if want == http.StatusOK {
			if err := json.NewDecoder(resp.Body).Decode(&f); err != nil {
				t.Fatal(err)
			}
		}
		return f
	}
	post("/faults/fail-copies-into", url.Values{"table": {"public.events"}, "n": {"2"}, "sqlstate": {"XX000"}, "message": {"m"}}, 200)
	post("/faults/serialization-conflicts", url.Values{"table": {"other"}, "n": {"1"}}, 200)
	post("/faults/deny-s3", url.Values{"bucket": {"b"}, "prefix": {"p/"}}, 200)
	post("/faults/deny-s3", url.Values{"bucket": {"b2"}}, 200)
	post("/faults/allow-s3", url.Values{"bucket": {"b2"}}, 200)
	post("/faults/cluster-region", url.Values{"region": {"eu-west-1"}}, 200)
	post("/faults/bucket-region", url.Values{"bucket": {"b"}, "region": {"us-west-2"}}, 200)
	post("/faults/expire-token", url.Values{"token": {"t"}}, 200)
	f := post("/faults/invalid-access-key", url.Values{"key": {"AKIA"}}, 200)
	if len(f.TableFailures) != 2 || f.TableFailures[0].Table != "public.events" || !f.TableFailures[1].Serialization ||
		fmt.Sprint(f.DeniedS3) != "[b/p/]" || f.ClusterRegion != "eu-west-1" || f.BucketRegions["b"] != "us-west-2" ||
		f.ExpiredTokens != 1 || f.InvalidAccessKeys != 1 {
		t.Fatalf("faults = %+v", f)
	}
	post("/faults/fail-copies-into", url.Values{"n": {"1"}}, http.StatusBadRequest)
	post("/faults/deny-s3", url.Values{"prefix": {"x"}}, http.StatusBadRequest)
	post("/faults/expire-token", nil, http.StatusBadRequest)
	f = post("/faults/reset", nil, 200)
	if len(f.TableFailures) != 0 || len(f.DeniedS3) != 0 || f.ClusterRegion != "us-east-1" || len(f.BucketRegions) != 0 ||
		f.ExpiredTokens != 0 || f.InvalidAccessKeys != 0 {
		t.Fatalf("after reset: %+v", f)
	}
}
