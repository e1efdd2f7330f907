package admin

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/journal"
	"github.com/rinhq/rin/sqsx"
)

const submitConfig = `
queue_name: q
redshift: {host: localhost, port: 5439, dbname: db, user: u, password: p, schema: public}
s3: {bucket: logs, region: us-east-1}
targets:
  - redshift: {table: events}
    s3: {key_prefix: app/}
`

// routedJobs are the jobs submitConfig makes of keys.
func routedJobs(t *testing.T, cfg *config.Config, keys ...string) []journal.Job {
	t.Helper()
	var out []journal.Job
	for _, k := range keys {
		rt := cfg.Route("logs", k)
		if len(rt) != 1 {
			t.Fatalf("%s: %d routes", k, len(rt))
		}
		out = append(out, fsm.JobFor(rt[0], sqsx.Record{Bucket: "logs", Key: k, ETag: "etag-" + k, Size: 10}))
	}
	return out
}

// Through the socket: jobs are journaled once (a second submission is
// known), Lookup follows them, and a job the running config does not route
// the same way comes back as fsm.ErrNotRouted with nothing journaled.
func TestSubmitAndLookupLive(t *testing.T) {
	cfg, err := config.Parse([]byte(submitConfig), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	j := openJournal(t)
	eng := fsm.New(j, nil, cfg, nil, fsm.Options{Logger: quiet()}) // not running: jobs wait in received
	_, c, _ := startServer(t, j, eng)
	ctx := context.Background()
	jobs := routedJobs(t, cfg, "app/1", "app/2")
	res, err := c.Submit(ctx, jobs)
	if err != nil || res != (SubmitResult{Admitted: 2}) {
		t.Fatalf("Submit = %+v, %v", res, err)
	}
	res, err = c.Submit(ctx, jobs)
	if err != nil || res != (SubmitResult{Known: 2}) {
		t.Fatalf("second Submit = %+v, %v", res, err)
	}
	st, err := c.Lookup(ctx, []string{jobs[1].ID, "unknown", jobs[0].ID})
	if err != nil || len(st) != 2 || st[0].ID != jobs[1].ID || st[0].State != journal.Received || st[0].URI != "s3://logs/app/2" || st[0].Finished() {
		t.Fatalf("Lookup = %+v, %v", st, err)
	}
	bad := routedJobs(t, cfg, "app/3")
	bad[0].Table = "elsewhere"
	bad[0].ID = journal.JobID(bad[0].Endpoint, bad[0].Schema, "elsewhere", "logs", "app/3", bad[0].Version)
	if _, err := c.Submit(ctx, bad); !errors.Is(err, fsm.ErrNotRouted) {
		t.Fatalf("Submit of a job routed elsewhere: %v, want fsm.ErrNotRouted", err)
	}
	if n := eng.Stats().Pending; n != 2 {
		t.Fatalf("%d jobs pending in the engine, want 2", n)
	}
}

// Submitting is a change: refused on the read-only TCP listener, and
// offline, where no engine would load the jobs.
func TestSubmitRefused(t *testing.T) {
	cfg, err := config.Parse([]byte(submitConfig), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	j := openJournal(t)
	eng := fsm.New(j, nil, cfg, nil, fsm.Options{Logger: quiet()})
	srv, err := Start(context.Background(), ServerOptions{Journal: j, Engine: eng, Addr: "127.0.0.1:0", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	base := "http://" + srv.Addrs()[0].String()
	resp, err := http.Post(base+"/v1/submit", "application/json", strings.NewReader(`{"jobs":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("submit over TCP: %s, want 403", resp.Status)
	}
	resp, err = http.Post(base+"/v1/lookup", "application/json", strings.NewReader(`{"ids":["x"]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("lookup over TCP: %s, want 200 (it only reads)", resp.Status)
	}
	off := &Local{Journal: j}
	if _, err := off.Submit(context.Background(), routedJobs(t, cfg, "app/1")); !errors.Is(err, ErrBadRequest) {
		t.Errorf("offline Submit: %v, want ErrBadRequest", err)
	}
}
