package lambdamode

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rinhq/rin/sqsx"
)

// Queue is the fsm.Queue of one invocation: its records, handed out once.
//
// Each message's receipt handle is its message id. The function never sends
// a handle to SQS (the event source mapping deletes records by what the
// response says), and Lambda reports failures by message id, so the id is
// the one token both sides need. A record delivered twice in one event
// (SQS is at least once) is handed out once and answered once.
//
// A Queue is safe for concurrent use.
type Queue struct {
	mu      sync.Mutex
	msgs    []sqsx.Message  // in event order, one per message id
	next    int             // msgs[next:] are not handed out yet
	out     map[string]bool // ids handed out
	deleted map[string]bool
}

// ErrNoMessageID means a record of the event has no messageId: its outcome
// could not be reported, so the invocation fails whole.
var ErrNoMessageID = errors.New("lambdamode: record without messageId")

// NewQueue builds the queue of an event's records, with sqsx's conversion
// of an SQS message (body and system attributes).
func NewQueue(records []events.SQSMessage) (*Queue, error) {
	q := &Queue{out: map[string]bool{}, deleted: map[string]bool{}}
	seen := make(map[string]bool, len(records))
	for i, r := range records {
		if r.MessageId == "" {
			return nil, fmt.Errorf("%w (record %d)", ErrNoMessageID, i)
		}
		if seen[r.MessageId] {
			continue
		}
		seen[r.MessageId] = true
		q.msgs = append(q.msgs, sqsx.NewMessage(r.MessageId, r.MessageId, r.Body, r.Attributes))
	}
	return q, nil
}

// Len is the number of distinct messages.
func (q *Queue) Len() int { return len(q.msgs) }

// Messages returns the messages in event order.
func (q *Queue) Messages() []sqsx.Message { return append([]sqsx.Message(nil), q.msgs...) }

// Receive hands out up to maxMessages records not handed out before, and
// nothing once all have been: to the engine in batch mode an empty receive
// means the queue is drained. It never waits and ignores visibility (the
// event source mapping set it when it received them).
func (q *Queue) Receive(ctx context.Context, maxMessages int32, _, _ time.Duration) ([]sqsx.Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	n := min(max(int(maxMessages), 1), len(q.msgs)-q.next)
	batch := append([]sqsx.Message(nil), q.msgs[q.next:q.next+n]...)
	q.next += n
	for _, m := range batch {
		q.out[m.ID] = true
	}
	return batch, nil
}

// Delete marks messages done: they are left out of batchItemFailures, and
// the event source mapping deletes them. A handle this queue never handed
// out is reported as failed.
func (q *Queue) Delete(_ context.Context, handles []string) (map[string]error, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var failed map[string]error
	for _, h := range handles {
		if !q.out[h] {
			if failed == nil {
				failed = map[string]error{}
			}
			failed[h] = fmt.Errorf("lambdamode: delete: message %q is not in this invocation", h)
			continue
		}
		q.deleted[h] = true
	}
	return failed, nil
}

// ChangeVisibility does nothing: the event source mapping owns the
// messages' visibility, and the invocation ends long before the queue's
// visibility timeout (at least six times the function timeout) runs out.
func (q *Queue) ChangeVisibility(context.Context, []string, time.Duration) (map[string]error, error) {
	return nil, nil
}

// Undeleted returns the ids of the messages not marked done, in event order.
func (q *Queue) Undeleted() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []string
	for _, m := range q.msgs {
		if !q.deleted[m.ID] {
			out = append(out, m.ID)
		}
	}
	return out
}
