package journal

import (
	"fmt"
	"path/filepath"
	"testing"
)

// TestBatchTransitionsStayLocal guards the point of the schema-2 layout
// (doc.go): a transition of a whole COPY batch rewrites a few pages around
// the batch, however many acked jobs the file keeps, rather than pages all
// over the tree as id-keyed jobs did (about one page per job).
func TestBatchTransitionsStayLocal(t *testing.T) {
	if testing.Short() {
		t.Skip("slow test: skipped with -short (make test-short); make test runs it")
	}
	j, err := Open(filepath.Join(t.TempDir(), "layout.db"), Options{})
	must(t, err)
	defer j.Close()
	written := func() int64 { s := j.db.Stats(); return s.TxStats.GetWrite() }
	admit := func(jobs []Job) {
		for lo := 0; lo < len(jobs); lo += 10 {
			group := jobs[lo:min(lo+10, len(jobs))]
			must(t, j.Update(func(tx *Tx) error {
				for _, jb := range group {
					if err := tx.PutJob(jb); err != nil {
						return err
					}
				}
				return tx.PutMessage(Message{ID: fmt.Sprintf("m-%s", group[0].ID), ReceiptHandle: "h", Jobs: []string{group[0].ID}})
			}))
		}
	}
	move := func(jobs []Job, s State) {
		must(t, j.Update(func(tx *Tx) error {
			for _, jb := range jobs {
				jb.State = s
				if err := tx.PutJob(jb); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	jobs := make([]Job, 15000)
	for i := range jobs {
		jobs[i] = benchJob(i)
	}
	// History: 10,000 acked jobs the dedupe window keeps.
	old := jobs[:10000]
	admit(old)
	for lo := 0; lo < len(old); lo += 1000 {
		for _, s := range []State{Copying, Copied, Acked} {
			move(old[lo:lo+1000], s)
		}
	}

	// A backlog of 5,000 arrives; then batches of 1,000 go through.
	before := written()
	admit(jobs[10000:])
	perAdmission := float64(written()-before) / 500
	before = written()
	for lo := 10000; lo < len(jobs); lo += 1000 {
		for _, s := range []State{Copying, Copied, Acked} {
			move(jobs[lo:lo+1000], s)
		}
	}
	perTransition := float64(written()-before) / 15
	t.Logf("pages written: %.1f per admission of 10 jobs, %.1f per transition of 1,000", perAdmission, perTransition)
	// 1,000 jobs of ~230 bytes fill about 60 pages; id-keyed, the same
	// transition rewrote over 1,000.
	if perTransition > 200 {
		t.Errorf("a transition of 1,000 jobs wrote %.0f pages, want under 200", perTransition)
	}
	if perAdmission > 40 {
		t.Errorf("an admission of 10 jobs wrote %.0f pages, want under 40", perAdmission)
	}
}
