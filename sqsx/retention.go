package sqsx

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Retention returns the queue's MessageRetentionPeriod: SQS deletes a
// message that old, handled or not.
func (q *Queue) Retention(ctx context.Context) (time.Duration, error) {
	out, err := q.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(q.url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameMessageRetentionPeriod},
	})
	if err != nil {
		return 0, q.wrap("get attributes", err)
	}
	v, ok := out.Attributes[string(types.QueueAttributeNameMessageRetentionPeriod)]
	if !ok {
		return 0, fmt.Errorf("sqsx: queue %q: no MessageRetentionPeriod attribute", q.name)
	}
	secs, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("sqsx: queue %q: MessageRetentionPeriod %q: %w", q.name, v, err)
	}
	return time.Duration(secs) * time.Second, nil
}
