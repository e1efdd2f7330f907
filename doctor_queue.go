package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/rinhq/rin/config"
)

// minRetention is the least MessageRetentionPeriod doctor accepts without
// a warning: SQS's default. A queue that keeps messages a shorter time
// leaves too little room to fix a held table or a stopped rin before SQS
// deletes messages unread.
const minRetention = 4 * 24 * time.Hour

// checkQueue checks that the queue answers and reports its settings.
func (d *doctor) checkQueue(ctx context.Context) {
	name := d.cfg.QueueName
	if name == "" {
		d.r.warn("queue", "(none)", "no queue_name: only Lambda mode runs without one (its event source mapping delivers the messages); rin itself refuses this config",
			"set queue_name unless this config is for Lambda mode")
		return
	}
	client := sqs.NewFromConfig(d.aws)
	var attrs map[string]string
	var url string
	err := d.bounded(ctx, func(ctx context.Context) error {
		out, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("GetQueueUrl: %w", err)
		}
		url = aws.ToString(out.QueueUrl)
		got, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl, AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameVisibilityTimeout, types.QueueAttributeNameMessageRetentionPeriod, types.QueueAttributeNameRedrivePolicy,
		}})
		if err != nil {
			return fmt.Errorf("GetQueueAttributes: %w", err)
		}
		attrs = got.Attributes
		return nil
	})
	if err != nil {
		d.r.fail("queue", name, err.Error(), fmt.Sprintf("check queue_name, the region (credentials.aws_region, AWS_REGION: now %q) and that rin may call sqs:GetQueueUrl and sqs:GetQueueAttributes on it", d.aws.Region))
		return
	}
	vis := seconds(attrs[string(types.QueueAttributeNameVisibilityTimeout)])
	ret := seconds(attrs[string(types.QueueAttributeNameMessageRetentionPeriod)])
	d.r.ok("queue", name, fmt.Sprintf("%s; visibility timeout %s (rin extends it while it works on a message), retention %s", url, vis, ret))
	if ret > 0 && ret.D() < minRetention {
		d.r.warn("queue", name, fmt.Sprintf("retention %s is under 4 days: SQS deletes a message unread after that, and a held table or a stopped rin may take longer to fix", ret),
			fmt.Sprintf("aws sqs set-queue-attributes --queue-url %s --attributes MessageRetentionPeriod=1209600 (14 days)", url))
	}
	d.checkRedrive(name, attrs[string(types.QueueAttributeNameRedrivePolicy)])
}

// checkRedrive reports the queue's dead-letter queue. rin deletes what it
// cannot parse (keeping it in its journal), so the dead-letter queue only
// catches messages received again and again without being handled — a rin
// that crashes on one, say: without it, such a message circulates until
// the retention deletes it.
func (d *doctor) checkRedrive(name, policy string) {
	fix := "create a dead-letter queue (retention at least this queue's) and set RedrivePolicy {\"deadLetterTargetArn\":\"...\",\"maxReceiveCount\":10}"
	if policy == "" {
		d.r.warn("queue", name, "no redrive policy: a message received again and again without being handled circulates until the retention deletes it", fix)
		return
	}
	var p struct {
		Target string          `json:"deadLetterTargetArn"`
		Max    json.RawMessage `json:"maxReceiveCount"` // a number, or a string of one
	}
	if err := json.Unmarshal([]byte(policy), &p); err != nil || p.Target == "" {
		d.r.warn("queue", name, fmt.Sprintf("redrive policy %q is not understood", policy), fix)
		return
	}
	dlq := p.Target[strings.LastIndex(p.Target, ":")+1:]
	max, _ := strconv.Atoi(strings.Trim(string(p.Max), `"`))
	d.r.ok("queue", name, fmt.Sprintf("redrive to %s after %d receives", dlq, max))
	if max > 0 && max < 5 {
		d.r.warn("queue", name, fmt.Sprintf("maxReceiveCount %d is low: every restart of rin, and every visibility timeout a slow receive misses, counts as a receive", max),
			"raise maxReceiveCount to 10 or more")
	}
}

// seconds reads an SQS attribute in seconds (0 when absent or
// unreadable); it prints as rin's durations do ("4d", "30s").
func seconds(v string) config.Duration {
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0
	}
	return config.Duration(time.Duration(n) * time.Second)
}
