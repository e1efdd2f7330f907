package fsm

import (
	"fmt"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/journal"
	"github.com/rinhq/rin/sqsx"
)

// Objects that change. S3 sends an event per write of a key, in no
// particular order, and COPY reads whatever bytes the key holds when it
// runs. So that each version loads once and an event never loads another
// version's bytes, three rules apply:
//
//   - On arrival (arrive, below), an event older by S3's sequencer than
//     one already seen for the same key and table ends superseded: the
//     newer one is what loads. With overwrites: skip, every event of a key
//     after its first ends superseded.
//   - Before the COPY, the Copier checks each object (redshift.Versions):
//     one whose bytes are no longer its event's loads the bytes the key
//     holds, as that version (its ledger row bears that version's job id,
//     so the version's own event finds it loaded; Result.Notes says so);
//     one that is gone is left out (Result.Removed); of the jobs of one key
//     in a batch the newest is kept (Result.Superseded).
//   - A COPY that fails because a data file no longer exists
//     (ErrObjectGone) ends its job removed, not failed.

// arrive decides, inside the transaction that journals it, whether new job
// c is the newest event of its key and table: if an event of a newer
// version was seen first, c ends superseded (with a note saying which);
// otherwise c becomes the key's newest. Jobs of a listing (backfill) carry
// no sequencer and are not ordered against events: the check before their
// COPY guards them.
func (e *Engine) arrive(tx *journal.Tx, c *journal.Job) error {
	if c.State != journal.Received {
		return nil
	}
	key := c.ObjectKey()
	ks, known, err := tx.KeyState(key)
	if err != nil {
		return err
	}
	switch {
	case !known || ks.Job == c.ID:
	case e.opts.Overwrites == config.OverwritesSkip:
		c.State = journal.Superseded
		c.Note = fmt.Sprintf("the key was loaded or is loading already (job %s); overwrites: skip loads a key once", ks.Job)
		return nil
	case c.Sequencer != "" && ks.Sequencer != "" && sqsx.CompareSequencers(c.Sequencer, ks.Sequencer) < 0:
		c.State = journal.Superseded
		c.Note = fmt.Sprintf("an event of a newer version of the key came first (sequencer %s, job %s)", ks.Sequencer, ks.Job)
		return nil
	case c.Sequencer == "":
		return nil // a listed object: the key's newest event stays the newest
	}
	return tx.PutKeyState(key, journal.KeyState{Sequencer: c.Sequencer, Job: c.ID})
}

// superseded logs and counts a job that ended superseded. Callers hold
// e.mu.
func (e *Engine) superseded(j journal.Job) {
	e.log.Info("superseded: a newer version of the object loads instead", "job_id", j.ID, "target", j.Target, "uri", j.URI(), "version", j.Version, "note", j.Note)
	e.stats.ended(j.Target, journal.Superseded)
}
