package fsm

import (
	"fmt"
	"time"

	"github.com/rinhq/rin/journal"
)

// Requeue sends failed jobs back to received with attempts reset, while the
// engine runs (rin-journal requeue through the admin socket). They load
// without any SQS message; the ledger still stops a double load if a job had
// in fact been copied.
func (e *Engine) Requeue(ids []string) ([]journal.Job, error) {
	var out []journal.Job
	err := e.journal.Update(func(tx *journal.Tx) error {
		out = out[:0]
		for _, id := range ids {
			job, err := tx.Requeue(id)
			if err != nil {
				return err
			}
			out = append(out, job)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("requeue: %w", err)
	}
	now := time.Now()
	e.mu.Lock()
	for _, j := range out {
		e.schedule(j, now)
	}
	e.mu.Unlock()
	e.signal(e.wake)
	for _, j := range out {
		e.log.Info("job requeued", "job_id", j.ID, "target", j.Target, "uri", j.URI())
	}
	return out, nil
}
