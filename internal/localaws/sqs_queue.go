package localaws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// QueueOptions configures CreateQueue.
type QueueOptions struct {
	// VisibilityTimeout in seconds; 0 leaves goaws's default (30s).
	VisibilityTimeout int
	// DeadLetter creates "<name>-dlq" and a RedrivePolicy pointing at it.
	DeadLetter bool
	// MaxReceiveCount of the RedrivePolicy; default 3.
	MaxReceiveCount int
}

// DLQName is the name CreateQueue gives a queue's dead-letter queue.
func DLQName(queue string) string { return queue + "-dlq" }

// CreateQueue creates queue name (and its DLQ when asked) and returns its URL.
// Calls are serialised: goaws crashes on concurrent CreateQueue.
func (q *SQS) CreateQueue(ctx context.Context, name string, opts QueueOptions) (string, error) {
	q.queueMu.Lock()
	defer q.queueMu.Unlock()
	attrs := map[string]string{}
	if opts.VisibilityTimeout > 0 {
		attrs[string(types.QueueAttributeNameVisibilityTimeout)] = strconv.Itoa(opts.VisibilityTimeout)
	}
	if opts.DeadLetter {
		// goaws resolves the DLQ when the policy is set, so it must exist first.
		dlqURL, err := q.createQueue(ctx, DLQName(name), nil)
		if err != nil {
			return "", err
		}
		dlqARN, err := q.QueueARN(ctx, dlqURL)
		if err != nil {
			return "", err
		}
		if opts.MaxReceiveCount <= 0 {
			opts.MaxReceiveCount = 3
		}
		policy, _ := json.Marshal(map[string]any{"maxReceiveCount": opts.MaxReceiveCount, "deadLetterTargetArn": dlqARN})
		attrs[string(types.QueueAttributeNameRedrivePolicy)] = string(policy)
	}
	return q.createQueue(ctx, name, attrs)
}

func (q *SQS) createQueue(ctx context.Context, name string, attrs map[string]string) (string, error) {
	out, err := q.client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		return "", fmt.Errorf("create queue %q: %w", name, err)
	}
	return aws.ToString(out.QueueUrl), nil
}

// DeleteQueue deletes the queue at url (serialised like CreateQueue).
func (q *SQS) DeleteQueue(ctx context.Context, url string) error {
	q.queueMu.Lock()
	defer q.queueMu.Unlock()
	if _, err := q.client.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(url)}); err != nil {
		return fmt.Errorf("delete queue %s: %w", url, err)
	}
	return nil
}

// QueueURL resolves a queue name, as rin does with queue_name.
func (q *SQS) QueueURL(ctx context.Context, name string) (string, error) {
	out, err := q.client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	if err != nil {
		return "", fmt.Errorf("get url of queue %q: %w", name, err)
	}
	return aws.ToString(out.QueueUrl), nil
}

// QueueARN returns the queue's ARN.
func (q *SQS) QueueARN(ctx context.Context, url string) (string, error) {
	v, err := q.attribute(ctx, url, types.QueueAttributeNameQueueArn)
	if err != nil {
		return "", err
	}
	if v == "" {
		return "", fmt.Errorf("queue %s has no QueueArn attribute", url)
	}
	return v, nil
}

// SendMessage sends body and returns the message id.
func (q *SQS) SendMessage(ctx context.Context, url, body string) (string, error) {
	out, err := q.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)})
	if err != nil {
		return "", fmt.Errorf("send message to %s: %w", url, err)
	}
	return aws.ToString(out.MessageId), nil
}

// SendBatch sends bodies in batches of 10. goaws returns an empty Successful
// list, so only Failed entries are checked.
func (q *SQS) SendBatch(ctx context.Context, url string, bodies []string) error {
	for start := 0; start < len(bodies); start += 10 {
		end := min(start+10, len(bodies))
		entries := make([]types.SendMessageBatchRequestEntry, 0, end-start)
		for i := start; i < end; i++ {
			entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(bodies[i])})
		}
		out, err := q.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: entries})
		if err != nil {
			return fmt.Errorf("send batch to %s: %w", url, err)
		}
		if len(out.Failed) > 0 {
			var errs []error
			for _, f := range out.Failed {
				errs = append(errs, fmt.Errorf("entry %s: %s: %s", aws.ToString(f.Id), aws.ToString(f.Code), aws.ToString(f.Message)))
			}
			return fmt.Errorf("send batch to %s: %d failed: %w", url, len(out.Failed), errors.Join(errs...))
		}
	}
	return nil
}

// ApproximateCount returns the number of messages in the queue, visible plus
// in flight. goaws already counts in-flight messages in
// ApproximateNumberOfMessages, so that attribute alone is the answer (on real
// SQS it would be the visible ones only).
func (q *SQS) ApproximateCount(ctx context.Context, url string) (int, error) {
	v, err := q.attribute(ctx, url, types.QueueAttributeNameApproximateNumberOfMessages)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("queue %s: ApproximateNumberOfMessages %q: %w", url, v, err)
	}
	return n, nil
}

// InFlight returns the number of received, not yet deleted or expired messages.
func (q *SQS) InFlight(ctx context.Context, url string) (int, error) {
	v, err := q.attribute(ctx, url, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("queue %s: ApproximateNumberOfMessagesNotVisible %q: %w", url, v, err)
	}
	return n, nil
}

// Purge deletes every message in the queue.
func (q *SQS) Purge(ctx context.Context, url string) error {
	if _, err := q.client.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(url)}); err != nil {
		return fmt.Errorf("purge %s: %w", url, err)
	}
	return nil
}

func (q *SQS) attribute(ctx context.Context, url string, name types.QueueAttributeName) (string, error) {
	out, err := q.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []types.QueueAttributeName{name},
	})
	if err != nil {
		return "", fmt.Errorf("get %s of %s: %w", name, url, err)
	}
	return out.Attributes[string(name)], nil
}
