package journal_test

import (
	"testing"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/journal"
)

// The legacy id is the hash older rins wrote into journals and ledgers: it
// must never change, or their loads would be forgotten.
func TestLegacyJobIDIsPinned(t *testing.T) {
	got := journal.LegacyJobID("postgres://rin@redshift.example.com:5439/dev", "public", "events", "logs", "a/1.json", "e1")
	if want := "d3679435f3529ddab973215dd87815b3"; got != want {
		t.Fatalf("LegacyJobID = %s, want %s (the id rin wrote before)", got, want)
	}
}

// A load's id depends on the database, the table and the object: not on the
// user or the driver that reach the database.
func TestJobIDSurvivesRenames(t *testing.T) {
	base := config.Redshift{Driver: "postgres", Host: "Redshift.example.com", Port: 5439, DBName: "dev", User: "rin"}
	id := func(r config.Redshift) string {
		return journal.JobID(r.Endpoint(), "public", "events", "logs", "a/1.json", "e1")
	}
	want := id(base)
	same := []config.Redshift{
		{Driver: "postgres", Host: "redshift.example.com", Port: 5439, DBName: "dev", User: "loader"},         // user renamed
		{Driver: "postgres", Host: "redshift.example.com", Port: 5439, DBName: "DEV", User: "rin@corp"},       // case, odd user
		{Driver: "postgres", Host: "redshift.example.com", Port: 5439, DBName: "dev", SSLMode: "verify-full"}, // no user, TLS
	}
	for _, r := range same {
		if got := id(r); got != want {
			t.Errorf("%s: id %s, want %s", r.Endpoint(), got, want)
		}
	}
	// A named cluster is the database, whichever driver reaches it.
	pq := config.Redshift{Driver: "postgres", Host: "c1.abc.us-east-1.redshift.amazonaws.com", Port: 5439, DBName: "dev", User: "rin", Cluster: "c1"}
	data := config.Redshift{Driver: "redshift-data", Cluster: "c1", DBName: "dev", User: "other"}
	if id(pq) != id(data) {
		t.Errorf("cluster c1 through lib/pq and the Data API: %s != %s", id(pq), id(data))
	}
	wg := config.Redshift{Driver: "redshift-data", Workgroup: "w", DBName: "dev"}
	for _, r := range []config.Redshift{
		{Driver: "postgres", Host: "other.example.com", Port: 5439, DBName: "dev", User: "rin"},
		{Driver: "postgres", Host: "redshift.example.com", Port: 5440, DBName: "dev", User: "rin"},
		{Driver: "postgres", Host: "redshift.example.com", Port: 5439, DBName: "prod", User: "rin"},
		wg,
	} {
		if id(r) == want {
			t.Errorf("%s shares an id with %s", r.Endpoint(), base.Endpoint())
		}
	}
	if journal.JobID(base.Endpoint(), "public", "events", "logs", "a/1.json", "e1") == journal.LegacyJobID(base.Endpoint(), "public", "events", "logs", "a/1.json", "e1") {
		t.Error("new and legacy ids coincide")
	}
}

// Job.IDs lists the job's own id and the other forms of it, once each.
func TestJobIDs(t *testing.T) {
	ep := "postgres://rin@h:5439/dev"
	j := journal.Job{Endpoint: ep, Schema: "s", Table: "t", Bucket: "b", Key: "k", Version: "v"}
	newID, legacy := journal.JobID(ep, "s", "t", "b", "k", "v"), journal.LegacyJobID(ep, "s", "t", "b", "k", "v")
	for _, tc := range []struct {
		own  string
		want []string
	}{
		{newID, []string{newID, legacy}},
		{legacy, []string{legacy, newID}}, // journaled by an older rin
		{"x", []string{"x", newID, legacy}},
	} {
		j.ID = tc.own
		got := j.IDs()
		if len(got) != len(tc.want) {
			t.Fatalf("IDs() of %s = %v, want %v", tc.own, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Fatalf("IDs() of %s = %v, want %v", tc.own, got, tc.want)
			}
		}
	}
}
