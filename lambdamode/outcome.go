package lambdamode

import (
	"errors"
	"fmt"

	"github.com/rinhq/rin/journal"
	"github.com/rinhq/rin/sqsx"
)

// outcome is what one invocation did with its messages.
type outcome struct {
	failures []string // message ids for batchItemFailures, in event order
	pending  []string // not done when the invocation stopped
	failed   []string // done, but a job failed for good: its object is not loaded
	poison   []journal.Rejected
	done     int // records whose objects are all loaded (or none to load)
}

// object is one version of an S3 object, as jobs and records name it.
type object struct{ bucket, key, version string }

// journalView is what the outcome needs from the invocation's journal: the
// jobs that failed for good and the messages rejected as poison.
type journalView struct {
	failed   map[object]journal.Job
	rejected map[string]journal.Rejected
}

func readJournal(j *journal.Journal) (journalView, error) {
	v := journalView{failed: map[object]journal.Job{}, rejected: map[string]journal.Rejected{}}
	err := j.View(func(tx *journal.Tx) error {
		if err := tx.ForEachJob(journal.Failed, func(job journal.Job) error {
			v.failed[object{job.Bucket, job.Key, job.Version}] = job
			return nil
		}); err != nil {
			return err
		}
		return tx.ForEachRejected(func(r journal.Rejected) error {
			v.rejected[r.ID] = r
			return nil
		})
	})
	if err != nil {
		return journalView{}, fmt.Errorf("read the invocation's journal: %w", err)
	}
	return v, nil
}

// decide sorts the messages. A message the engine did not delete still has
// a job pending; one it deleted is done unless one of its objects has a
// failed job (the engine deletes a message once its jobs are copied or
// failed, and here a failed object must go back to the queue: no journal
// outlives the invocation to keep it for a person). Poison messages are
// failures only under PoisonRedrive.
func decide(msgs []sqsx.Message, undeleted []string, v journalView, poison PoisonPolicy) outcome {
	var o outcome
	notDeleted := map[string]bool{}
	for _, id := range undeleted {
		notDeleted[id] = true
	}
	for _, m := range msgs {
		r, rejected := v.rejected[m.ID]
		if rejected {
			o.poison = append(o.poison, r)
		}
		switch {
		case notDeleted[m.ID]:
			o.pending = append(o.pending, m.ID)
		case failedObject(m, v.failed):
			o.failed = append(o.failed, m.ID)
		case rejected && poison == PoisonRedrive:
			// left to the queue's redrive policy
		default:
			o.done++
			continue
		}
		o.failures = append(o.failures, m.ID)
	}
	return o
}

// failedObject reports whether any object m announces has a failed job.
// The body is parsed again with the engine's parser, so records and jobs
// name objects alike.
func failedObject(m sqsx.Message, failed map[object]journal.Job) bool {
	if len(failed) == 0 {
		return false
	}
	recs, err := sqsx.ParseBody(m.Body)
	if err != nil && !errors.Is(err, sqsx.ErrTestEvent) {
		return false // poison: decided by the rejected list
	}
	for _, r := range recs {
		if _, ok := failed[object{r.Bucket, r.Key, r.Version()}]; ok {
			return true
		}
	}
	return false
}

// allFailed is the outcome when the journal cannot tell what happened:
// every message goes back, and the ledger keeps what did load from loading
// twice.
func allFailed(msgs []sqsx.Message) outcome {
	o := outcome{}
	for _, m := range msgs {
		o.failures = append(o.failures, m.ID)
		o.pending = append(o.pending, m.ID)
	}
	return o
}
