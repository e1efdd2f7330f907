package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// ESM plays a Lambda event source mapping for an SQS queue with
// ReportBatchItemFailures: it receives a batch, invokes the function with it
// as an events.SQSEvent, and deletes every message the response does not
// list in batchItemFailures, by Lambda's rules (see Outcome).
//
// It is safe for concurrent use; run one poller per Lambda emulator to
// play a mapping scaled out over several execution environments.
type ESM struct {
	Client   *sqs.Client
	QueueURL string
	QueueARN string
	// BatchSize is the most records per invocation (default 10).
	BatchSize int
	// Window is the batching window: how long to gather records for one
	// batch once the first arrived (default 0: one receive's worth).
	Window time.Duration
	// Release makes messages that come back (failures, or the whole batch)
	// visible again at once rather than after the queue's visibility
	// timeout, which keeps tests short. Lambda leaves them invisible.
	Release bool
}

// Invocation is one batch: what was sent, what came back, what was deleted.
type Invocation struct {
	Records []events.SQSMessage
	Result  InvokeResult
	Outcome Outcome
	Deleted int
}

// Poll receives one batch and, if any message came, invokes fn with it and
// applies the response. ok is false when the queue gave nothing.
func (m *ESM) Poll(ctx context.Context, fn *Lambda) (inv Invocation, ok bool, err error) {
	recs, err := m.Receive(ctx)
	if err != nil || len(recs) == 0 {
		return Invocation{}, false, err
	}
	inv, err = m.Invoke(ctx, fn, recs)
	return inv, true, err
}

// Receive gathers up to BatchSize messages within Window, as the event
// source mapping's poller does, and shapes them as Lambda's SQS records.
func (m *ESM) Receive(ctx context.Context) ([]events.SQSMessage, error) {
	size := m.BatchSize
	if size <= 0 {
		size = 10
	}
	var recs []events.SQSMessage
	var until time.Time
	for len(recs) < size {
		wait := int32(0)
		if len(recs) == 0 {
			wait = 1 // a short long-poll for the first message
		}
		out, err := m.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(m.QueueURL),
			MaxNumberOfMessages:         int32(min(size-len(recs), 10)),
			WaitTimeSeconds:             wait,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		})
		if err != nil {
			return recs, fmt.Errorf("esm: receive: %w", err)
		}
		for _, msg := range out.Messages {
			recs = append(recs, events.SQSMessage{
				MessageId: aws.ToString(msg.MessageId), ReceiptHandle: aws.ToString(msg.ReceiptHandle),
				Body: aws.ToString(msg.Body), Md5OfBody: aws.ToString(msg.MD5OfBody),
				Attributes: msg.Attributes, EventSource: "aws:sqs", EventSourceARN: m.QueueARN, AWSRegion: Region,
			})
		}
		if len(recs) == 0 {
			return nil, nil
		}
		if until.IsZero() {
			until = time.Now().Add(m.Window)
		}
		if len(out.Messages) == 0 && !time.Now().Before(until) {
			break
		}
		if len(out.Messages) == 0 {
			time.Sleep(min(50*time.Millisecond, time.Until(until)))
		}
	}
	return recs, nil
}

// Invoke sends recs to fn as one SQS event, then deletes what the
// response says succeeded (and releases the rest if Release is set).
func (m *ESM) Invoke(ctx context.Context, fn *Lambda, recs []events.SQSMessage) (Invocation, error) {
	inv := Invocation{Records: recs}
	payload, err := json.Marshal(events.SQSEvent{Records: recs})
	if err != nil {
		return inv, err
	}
	inv.Result, err = fn.Invoke(ctx, payload)
	if err != nil {
		return inv, err
	}
	inv.Outcome = Judge(recs, inv.Result)
	var del, back []string
	for _, r := range recs {
		if inv.Outcome.Returned[r.MessageId] {
			back = append(back, r.ReceiptHandle)
		} else {
			del = append(del, r.ReceiptHandle)
		}
	}
	inv.Deleted, err = m.delete(ctx, del)
	if err != nil {
		return inv, err
	}
	if m.Release {
		for _, h := range back {
			if _, err := m.Client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
				QueueUrl: aws.String(m.QueueURL), ReceiptHandle: aws.String(h), VisibilityTimeout: 0,
			}); err != nil {
				return inv, fmt.Errorf("esm: release: %w", err)
			}
		}
	}
	return inv, nil
}

func (m *ESM) delete(ctx context.Context, handles []string) (int, error) {
	n := 0
	for start := 0; start < len(handles); start += 10 {
		var entries []types.DeleteMessageBatchRequestEntry
		for i, h := range handles[start:min(start+10, len(handles))] {
			entries = append(entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(h)})
		}
		out, err := m.Client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(m.QueueURL), Entries: entries})
		if err != nil {
			return n, fmt.Errorf("esm: delete: %w", err)
		}
		if len(out.Failed) > 0 {
			return n, fmt.Errorf("esm: delete: %d failed, e.g. %s: %s", len(out.Failed), aws.ToString(out.Failed[0].Code), aws.ToString(out.Failed[0].Message))
		}
		n += len(entries)
	}
	return n, nil
}

// Outcome is what Lambda makes of an invocation's answer.
type Outcome struct {
	// FunctionError is set when the function failed (an error response, a
	// timeout, or the runtime exiting): nothing is deleted.
	FunctionError string
	// Invalid is set when the response breaks the partial batch response
	// rules (unparseable, an itemIdentifier empty or not in the batch):
	// the whole batch fails.
	Invalid string
	// Failures are the itemIdentifiers the function reported.
	Failures []string
	// Returned holds the message ids that stay on the queue.
	Returned map[string]bool
}

// Judge applies Lambda's rules for an SQS batch with
// ReportBatchItemFailures: a function error, or a response with an
// itemIdentifier that is empty or names no record of the batch, returns
// every record; an empty or null batchItemFailures (or an empty or null
// response) deletes every record; otherwise exactly the listed ones stay.
func Judge(recs []events.SQSMessage, res InvokeResult) Outcome {
	o := Outcome{Returned: map[string]bool{}}
	all := func() Outcome {
		for _, r := range recs {
			o.Returned[r.MessageId] = true
		}
		return o
	}
	body := bytes.TrimSpace(res.Body)
	switch {
	case res.Status != 200:
		o.FunctionError = fmt.Sprintf("HTTP %d: %s", res.Status, body)
		return all()
	case bytes.HasPrefix(body, []byte("Task timed out")):
		o.FunctionError = string(body)
		return all()
	}
	var fields map[string]json.RawMessage
	if len(body) > 0 && !bytes.Equal(body, []byte("null")) {
		if err := json.Unmarshal(body, &fields); err != nil {
			o.Invalid = fmt.Sprintf("response is not a JSON object: %v", err)
			return all()
		}
	}
	if _, ok := fields["errorType"]; ok {
		o.FunctionError = string(body)
		return all()
	}
	raw, ok := fields["batchItemFailures"]
	if !ok || bytes.Equal(raw, []byte("null")) {
		return o
	}
	var items []map[string]*string
	if err := json.Unmarshal(raw, &items); err != nil {
		o.Invalid = fmt.Sprintf("batchItemFailures: %v", err)
		return all()
	}
	inBatch := map[string]bool{}
	for _, r := range recs {
		inBatch[r.MessageId] = true
	}
	for _, it := range items {
		id := it["itemIdentifier"]
		switch {
		case id == nil || *id == "":
			o.Invalid = "an itemIdentifier is empty or missing"
		case !inBatch[*id]:
			o.Invalid = fmt.Sprintf("itemIdentifier %q is not in the batch", *id)
		}
		if o.Invalid != "" {
			return all()
		}
		o.Failures = append(o.Failures, *id)
		o.Returned[*id] = true
	}
	return o
}
