package fsm

import (
	"iter"
	"maps"
	"time"

	"github.com/rinhq/rin/journal"
	"github.com/rinhq/rin/sqsx"
)

// pendingMessage is an SQS message not yet deleted.
type pendingMessage struct {
	id     string
	handle string
	jobs   []string
	// delivered is when the current delivery (handle) was received: SQS
	// lets a delivery stay hidden for 12 hours from it, and a redelivery
	// starts a new window.
	delivered time.Time
	// sent is SQS's SentTimestamp: the queue's retention counts from it.
	sent     time.Time
	deleting bool
}

// age is how long the message has been in the queue.
func (m *pendingMessage) age(now time.Time) time.Duration {
	if m.sent.IsZero() {
		return now.Sub(m.delivered)
	}
	return now.Sub(m.sent)
}

// messages are the SQS messages rin holds undeleted, by id, and for each
// job the ids of the undeleted messages that carry it: a copied job is
// acked once none does (ack.go).
//
// Invariants, kept by its methods: every job of a held message has that
// message in ofJob (add and restore attach them); a deleted message is
// detached from its jobs before it is forgotten, and a job's entry goes
// when its last message is deleted and the job is no longer pending, or
// when the job is acked (forgetJob). A message is forgotten only by the
// ack pass that deleted it.
//
// Guarded by Engine.mu, like all of the engine's state.
type messages struct {
	byID  map[string]*pendingMessage
	ofJob map[string]map[string]bool // job id → ids of undeleted messages
}

func newMessages() messages {
	return messages{byID: map[string]*pendingMessage{}, ofJob: map[string]map[string]bool{}}
}

// get returns the held message id, nil if there is none.
func (ms *messages) get(id string) *pendingMessage { return ms.byID[id] }

// all yields the held messages.
func (ms *messages) all() iter.Seq[*pendingMessage] { return maps.Values(ms.byID) }

// len is the number of messages held undeleted.
func (ms *messages) len() int { return len(ms.byID) }

// inQueue is the number of held messages surely still in the queue: all
// but those being deleted, whose deletes may have taken effect already
// (an ack pass forgets them only once its last request returns).
func (ms *messages) inQueue() int {
	n := 0
	for _, m := range ms.byID {
		if !m.deleting {
			n++
		}
	}
	return n
}

// restore holds a message the journal kept from an earlier run.
func (ms *messages) restore(m journal.Message) {
	ms.byID[m.ID] = &pendingMessage{id: m.ID, handle: m.ReceiptHandle, jobs: m.Jobs, delivered: m.Received, sent: m.Sent}
	ms.attach(m.ID, m.Jobs)
}

// add holds a message just admitted, received now and carrying jobs ids.
// A redelivery of a held message (a new handle) starts a new 12-hour
// visibility window.
func (ms *messages) add(msg sqsx.Message, ids []string, now time.Time) {
	pm := ms.byID[msg.ID]
	if pm == nil {
		pm = &pendingMessage{id: msg.ID}
		ms.byID[msg.ID] = pm
	}
	if pm.handle != msg.ReceiptHandle {
		pm.handle, pm.delivered = msg.ReceiptHandle, now
	}
	if !msg.SentAt.IsZero() {
		pm.sent = msg.SentAt
	}
	pm.jobs = ids
	ms.attach(msg.ID, ids)
}

func (ms *messages) attach(msgID string, jobIDs []string) {
	for _, id := range jobIDs {
		m := ms.ofJob[id]
		if m == nil {
			m = map[string]bool{}
			ms.ofJob[id] = m
		}
		m[msgID] = true
	}
}

// of yields the ids of the undeleted messages that carry job id.
func (ms *messages) of(id string) iter.Seq[string] { return maps.Keys(ms.ofJob[id]) }

// carried reports whether an undeleted message carries job id.
func (ms *messages) carried(id string) bool { return len(ms.ofJob[id]) > 0 }

// detach notes that m was deleted from SQS: its jobs no longer wait for
// it. A job no message carries any more that is not pending either (it
// failed, or ended otherwise) is forgotten.
func (ms *messages) detach(m *pendingMessage, jobs *jobTable) {
	for _, id := range m.jobs {
		delete(ms.ofJob[id], m.id)
		if jobs.get(id) == nil && len(ms.ofJob[id]) == 0 {
			delete(ms.ofJob, id) // a failed job's last message
		}
	}
}

// forget drops m, deleted and detached, unless a newer message of its id
// took its place meanwhile.
func (ms *messages) forget(m *pendingMessage) {
	if cur := ms.byID[m.id]; cur == m {
		delete(ms.byID, m.id)
	}
}

// forgetJob drops what is known of job id, acked.
func (ms *messages) forgetJob(id string) { delete(ms.ofJob, id) }
