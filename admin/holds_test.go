package admin

import (
	"strings"
	"testing"
	"time"

	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/journal"
)

// heldEngine is an engine holding a table, with its oldest message near
// the queue's retention.
type heldEngine struct{ stats fsm.Stats }

func (e heldEngine) Requeue([]string) ([]journal.Job, error) { return nil, nil }
func (e heldEngine) Stats() fsm.Stats                        { return e.stats }
func (e heldEngine) Holds() []fsm.Hold {
	return []fsm.Hold{{Scope: "table", Name: "ep/public.clicks", Since: time.Now().Add(-time.Minute), Failures: 4, LastError: `relation "public.clicks" does not exist`}}
}

// Held scopes, skipped rows and the queue's age against its retention are
// on /metrics; /healthz lists the holds and says degraded at 75 % of the
// retention.
func TestHoldsAndRetentionReported(t *testing.T) {
	j := openJournal(t)
	eng := heldEngine{stats: fsm.Stats{Targets: map[string]fsm.TargetStats{"targets[0]": {RowsSkipped: 7}}, OldestMessageAgeSeconds: 80, RetentionSeconds: 100}}
	_, c, sock := startServer(t, j, eng)
	text := scrape(t, sock)
	for _, want := range []string{
		`rin_held_scopes{scope="table"} 1`,
		`rin_held_scopes{scope="endpoint"} 0`,
		`rin_held_scopes{scope="bucket"} 0`,
		`rin_rows_skipped_total{target="targets[0]"} 7`,
		`rin_oldest_message_age_seconds 80`,
		`rin_queue_retention_seconds 100`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("missing %s", want)
		}
	}
	if !strings.Contains(text, `rin_hold_seconds{name="ep/public.clicks",scope="table"} `) {
		t.Error("missing rin_hold_seconds for the held table")
	}
	h := c.Health() // /healthz as the client saw it when it dialled
	if h.Status != "degraded" || len(h.Problems) != 1 || !strings.Contains(h.Problems[0], "80% of the queue's retention") || len(h.Held) != 1 {
		t.Fatalf("healthz: %+v", h)
	}
	if _, c2, _ := startServer(t, j, heldEngine{stats: fsm.Stats{OldestMessageAgeSeconds: 10, RetentionSeconds: 100}}); c2.Health().Status != "ok" {
		t.Fatalf("healthz at 10%% of retention: %+v", c2.Health())
	}
}
