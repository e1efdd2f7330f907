package sqsx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

// SQS limits that shape the requests below.
const (
	maxBatch      = 10               // entries per batch request, messages per receive
	maxWait       = 20 * time.Second // longest long-poll wait
	maxVisibility = 12 * time.Hour   // total visibility a message can get after a receive
)

// Message is one received SQS message.
type Message struct {
	ID            string
	ReceiptHandle string
	Body          string
	// ReceiveCount is SQS's ApproximateReceiveCount. It is approximate on
	// SQS and always 1 on goaws, so never base correctness on it.
	ReceiveCount int
	// SentAt is SQS's SentTimestamp (goaws reports the receive time).
	SentAt time.Time
}

// Queue is a thin wrapper around one SQS queue.
//
// Requests always go to the client's endpoint (its BaseEndpoint, or
// AWS_ENDPOINT_URL_SQS, or the regional default): aws-sdk-go-v2's SQS client
// sends QueueUrl in the request body and never routes by its host. That
// matters for goaws, whose queue URLs name a host ("us-east-1.127.0.0.1",
// "us-east-1.localhost") that does not resolve; the package tests check it.
//
// Transient transport errors, including "use of closed network connection"
// (an SDK/net/http race that rin's client avoids, see internal/httpbody), are
// retried by the client's retryer: the SDK's default (standard) retryer
// classifies them as retryable, so no custom retryer is needed.
//
// A Queue is safe for concurrent use.
type Queue struct {
	client *sqs.Client
	name   string
	url    string
	log    *slog.Logger

	mu sync.Mutex
	// received maps the receipt handles this Queue received to the time
	// just before the receive call, so ChangeVisibility can stay within the
	// 12h that SQS allows a message in flight.
	received map[string]time.Time

	// noVisibilityBatch is set once the server turned out not to know
	// ChangeMessageVisibilityBatch (goaws v0.5.4 does not).
	noVisibilityBatch atomic.Bool
}

// Option configures a Queue.
type Option func(*Queue)

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(q *Queue) {
		if l != nil {
			q.log = l
		}
	}
}

// ErrNoSuchQueue means the queue named in Open does not exist.
var ErrNoSuchQueue = errors.New("sqsx: no such queue")

// Open finds the queue called name (GetQueueUrl) and returns a Queue for it.
func Open(ctx context.Context, client *sqs.Client, name string, opts ...Option) (*Queue, error) {
	if client == nil {
		return nil, fmt.Errorf("sqsx: queue %q: nil SQS client", name)
	}
	if name == "" {
		return nil, errors.New("sqsx: empty queue name")
	}
	out, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	if err != nil {
		if isNoSuchQueue(err) {
			return nil, fmt.Errorf("sqsx: queue %q: %w: %w", name, ErrNoSuchQueue, err)
		}
		return nil, fmt.Errorf("sqsx: queue %q: get queue URL: %w", name, err)
	}
	url := aws.ToString(out.QueueUrl)
	if url == "" {
		return nil, fmt.Errorf("sqsx: queue %q: GetQueueUrl returned no URL", name)
	}
	q := &Queue{
		client:   client,
		name:     name,
		url:      url,
		log:      slog.Default(),
		received: map[string]time.Time{},
	}
	for _, o := range opts {
		o(q)
	}
	q.log = q.log.With("queue", name)
	return q, nil
}

// isNoSuchQueue recognises SQS's QueueDoesNotExist under its JSON name and
// its older query-protocol name (which goaws uses).
func isNoSuchQueue(err error) bool {
	var qe *types.QueueDoesNotExist
	if errors.As(err, &qe) {
		return true
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && strings.Contains(ae.ErrorCode(), "NonExistentQueue")
}

// Name returns the queue's name.
func (q *Queue) Name() string { return q.name }

// URL returns the queue's URL as SQS reported it. It identifies the queue in
// requests; it is not where requests are sent.
func (q *Queue) URL() string { return q.url }

// Receive long-polls for up to maxMessages messages (clamped to 1..10), waiting up
// to wait (at most 20s) for the first one to arrive and returning as soon as
// any are there. Received messages stay hidden from other consumers for
// visibility. Durations are whole seconds, rounded up; a zero wait or
// visibility means the queue's own setting. An empty result with a nil
// error means the wait ran out.
func (q *Queue) Receive(ctx context.Context, maxMessages int32, wait, visibility time.Duration) ([]Message, error) {
	in := &sqs.ReceiveMessageInput{
		QueueUrl:            aws.String(q.url),
		MaxNumberOfMessages: min(max(maxMessages, 1), maxBatch),
		WaitTimeSeconds:     ceilSeconds(min(wait, maxWait)),
		VisibilityTimeout:   ceilSeconds(min(visibility, maxVisibility)),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{
			types.MessageSystemAttributeNameApproximateReceiveCount,
			types.MessageSystemAttributeNameSentTimestamp,
		},
	}
	start := time.Now() // before the call: SQS's clock starts later, never earlier
	out, err := q.client.ReceiveMessage(ctx, in)
	if err != nil {
		return nil, q.wrap("receive", err)
	}
	msgs := make([]Message, 0, len(out.Messages))
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pruneLocked(start)
	for _, m := range out.Messages {
		msg := NewMessage(aws.ToString(m.MessageId), aws.ToString(m.ReceiptHandle), aws.ToString(m.Body), m.Attributes)
		if msg.ReceiptHandle != "" {
			q.received[msg.ReceiptHandle] = start
		}
		msgs = append(msgs, msg)
	}
	q.log.Debug("received", "messages", len(msgs))
	return msgs, nil
}

// pruneLocked forgets handles received longer than 12h ago: SQS has made
// them visible again by now, and they can no longer be extended.
func (q *Queue) pruneLocked(now time.Time) {
	for h, at := range q.received {
		if now.Sub(at) > maxVisibility {
			delete(q.received, h)
		}
	}
}

// ApproximateCounts returns SQS's approximate numbers of visible and
// in-flight messages. goaws counts in-flight messages in visible too.
func (q *Queue) ApproximateCounts(ctx context.Context) (visible, inFlight int, err error) {
	out, err := q.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(q.url),
		AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		},
	})
	if err != nil {
		return 0, 0, q.wrap("get attributes", err)
	}
	count := func(name types.QueueAttributeName) (int, error) {
		v, ok := out.Attributes[string(name)]
		if !ok {
			return 0, fmt.Errorf("sqsx: queue %q: no %s attribute", q.name, name)
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("sqsx: queue %q: attribute %s: %w", q.name, name, err)
		}
		return n, nil
	}
	if visible, err = count(types.QueueAttributeNameApproximateNumberOfMessages); err != nil {
		return 0, 0, err
	}
	if inFlight, err = count(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible); err != nil {
		return 0, 0, err
	}
	return visible, inFlight, nil
}

// wrap names the queue and the operation in a request's error.
func (q *Queue) wrap(op string, err error) error {
	return fmt.Errorf("sqsx: queue %q: %s: %w", q.name, op, err)
}

// ceilSeconds converts d to whole seconds, rounding up; d <= 0 gives 0.
func ceilSeconds(d time.Duration) int32 {
	if d <= 0 {
		return 0
	}
	return int32((d + time.Second - 1) / time.Second)
}
