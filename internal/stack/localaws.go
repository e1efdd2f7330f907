package stack

import (
	"context"

	"github.com/rinhq/rin/internal/localaws"
)

// The event bodies and goaws-backed SQS live in rin's module
// (internal/localaws), which needs no emulator as a requirement, so that
// rin's own tests use them too; the stack names them here as its own.

// Region, account and keys of the local stack. Any non-empty keys work; these
// are recognisable in logs and are what Env exports.
const (
	Region          = localaws.Region
	AccountID       = localaws.AccountID
	AccessKeyID     = localaws.AccessKeyID
	SecretAccessKey = localaws.SecretAccessKey
)

type (
	// ObjectEvent describes one S3 object event (see localaws.ObjectEvent).
	ObjectEvent = localaws.ObjectEvent
	// SQS is a goaws process emulating SQS (see localaws.SQS).
	SQS = localaws.SQS
	// SQSOptions configures StartSQS.
	SQSOptions = localaws.SQSOptions
	// QueueOptions configures SQS.CreateQueue.
	QueueOptions = localaws.QueueOptions
)

// StartSQS starts goaws on a free port and returns once it answers.
func StartSQS(ctx context.Context, opts SQSOptions) (*SQS, error) {
	return localaws.StartSQS(ctx, opts)
}

// DLQName is the name of the dead-letter queue CreateQueue makes for queue.
func DLQName(queue string) string { return localaws.DLQName(queue) }

// S3EventBody is the SQS body of an S3 event notification of events.
func S3EventBody(events ...ObjectEvent) string { return localaws.S3EventBody(events...) }

// TestEventBody is the s3:TestEvent S3 sends when a notification is set up.
func TestEventBody(bucket string) string { return localaws.TestEventBody(bucket) }

// SNSWrap wraps body in the SNS notification envelope an SQS subscriber gets.
func SNSWrap(body, topicArn string) string { return localaws.SNSWrap(body, topicArn) }

// EventBridgeBody is the EventBridge "Object Created" event of ev.
func EventBridgeBody(ev ObjectEvent) string { return localaws.EventBridgeBody(ev) }
