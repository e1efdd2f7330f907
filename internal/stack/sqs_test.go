package stack_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/rinhq/rin/internal/stack"
	"github.com/rinhq/rin/internal/stack/stacktest"
)

func startSQS(t *testing.T) *stack.SQS {
	t.Helper()
	q, err := stack.StartSQS(t.Context(), stack.SQSOptions{Logger: stacktest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := q.Stop(); err != nil {
			t.Error(err)
		}
	})
	return q
}

// TestSQSRequestsGoToEndpoint proves aws-sdk-go-v2 sends requests carrying a
// QueueUrl to the configured endpoint, not to the QueueUrl's host: goaws's
// queue URLs name an unresolvable host, and a proxy in front of goaws counts
// every request that reaches the endpoint.
func TestSQSRequestsGoToEndpoint(t *testing.T) {
	q := startSQS(t)
	ctx := t.Context()
	qurl, err := q.CreateQueue(ctx, "endpoint-check", stack.QueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(qurl)
	if u.Host == strings.TrimPrefix(q.Endpoint(), "http://") {
		t.Fatalf("goaws queue URL %s names the endpoint's host; the test would prove nothing", qurl)
	}
	t.Logf("goaws queue URL: %s (endpoint %s)", qurl, q.Endpoint())

	target, _ := url.Parse(q.Endpoint())
	var hits atomic.Int64
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		proxy.ServeHTTP(w, r)
	}))
	defer srv.Close()
	client := sqs.New(sqs.Options{
		Region:           stack.Region,
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("k", "s", ""),
		RetryMaxAttempts: 1,
	})
	if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(qurl), MessageBody: aws.String("hi")}); err != nil {
		t.Fatalf("SendMessage with QueueUrl %s: %v", qurl, err)
	}
	out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(qurl), WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 {
		t.Fatalf("received %d messages", len(out.Messages))
	}
	if _, err := client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(qurl), ReceiptHandle: out.Messages[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	if got := hits.Load(); got != 3 {
		t.Fatalf("endpoint saw %d requests, want 3", got)
	}
}

func TestSQSQueueOperations(t *testing.T) {
	q := startSQS(t)
	ctx := t.Context()
	c := q.Client()
	qurl, err := q.CreateQueue(ctx, "ops", stack.QueueOptions{VisibilityTimeout: 30, DeadLetter: true, MaxReceiveCount: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := q.QueueURL(ctx, "ops"); err != nil || got != qurl {
		t.Fatalf("QueueURL = %q, %v; want %q", got, err, qurl)
	}
	dlqURL, err := q.QueueURL(ctx, stack.DLQName("ops"))
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(qurl), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	if rp := attrs.Attributes["RedrivePolicy"]; !strings.Contains(rp, "ops-dlq") {
		t.Fatalf("RedrivePolicy = %q", rp)
	}

	t.Run("long polling", func(t *testing.T) {
		go func() {
			time.Sleep(700 * time.Millisecond)
			_, _ = q.SendMessage(context.Background(), qurl, "late")
		}()
		start := time.Now()
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(qurl), WaitTimeSeconds: 5, MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		waited := time.Since(start)
		if len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != "late" {
			t.Fatalf("got %+v", out.Messages)
		}
		if waited < 500*time.Millisecond || waited > 4*time.Second {
			t.Fatalf("long poll returned after %s", waited)
		}
		n, err := q.ApproximateCount(ctx, qurl)
		if err != nil || n != 1 {
			t.Fatalf("ApproximateCount with one in flight = %d, %v; want 1", n, err)
		}
		if n, err := q.InFlight(ctx, qurl); err != nil || n != 1 {
			t.Fatalf("InFlight = %d, %v", n, err)
		}
		deleteAll(t, c, qurl, out.Messages)
	})

	t.Run("visibility", func(t *testing.T) {
		if _, err := q.SendMessage(ctx, qurl, "v"); err != nil {
			t.Fatal(err)
		}
		m := receiveOne(t, c, qurl, 1)
		if out := receive(t, c, qurl, 0); len(out) != 0 {
			t.Fatalf("in-flight message visible again: %+v", out)
		}
		if _, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(qurl), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0}); err != nil {
			t.Fatal(err)
		}
		m = receiveOne(t, c, qurl, 2)
		// goaws quirk: ApproximateReceiveCount is always 1.
		t.Logf("ApproximateReceiveCount on 2nd receive: %s", m.Attributes["ApproximateReceiveCount"])
		deleteAll(t, c, qurl, []types.Message{m})
	})

	t.Run("batch send and delete", func(t *testing.T) {
		bodies := make([]string, 15)
		for i := range bodies {
			bodies[i] = "b" + strconv.Itoa(i)
		}
		if err := q.SendBatch(ctx, qurl, bodies); err != nil {
			t.Fatal(err)
		}
		if n, err := q.ApproximateCount(ctx, qurl); err != nil || n != 15 {
			t.Fatalf("ApproximateCount = %d, %v; want 15", n, err)
		}
		var got []types.Message
		for len(got) < 15 {
			out := receive(t, c, qurl, 1)
			if len(out) == 0 {
				t.Fatalf("queue ran dry after %d of 15", len(got))
			}
			got = append(got, out...)
		}
		deleteAll(t, c, qurl, got)
		if n, err := q.ApproximateCount(ctx, qurl); err != nil || n != 0 {
			t.Fatalf("ApproximateCount after delete = %d, %v", n, err)
		}
	})

	t.Run("purge", func(t *testing.T) {
		if err := q.SendBatch(ctx, qurl, []string{"p1", "p2"}); err != nil {
			t.Fatal(err)
		}
		if err := q.Purge(ctx, qurl); err != nil {
			t.Fatal(err)
		}
		if n, err := q.ApproximateCount(ctx, qurl); err != nil || n != 0 {
			t.Fatalf("ApproximateCount after purge = %d, %v", n, err)
		}
	})

	t.Run("redrive to DLQ", func(t *testing.T) {
		if _, err := q.SendMessage(ctx, qurl, "poison"); err != nil {
			t.Fatal(err)
		}
		// maxReceiveCount 2: receive twice, letting the 1s visibility lapse.
		for i := 0; i < 2; i++ {
			out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(qurl), WaitTimeSeconds: 3, VisibilityTimeout: 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Messages) != 1 {
				t.Fatalf("receive %d: got %d messages", i+1, len(out.Messages))
			}
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			n, err := q.ApproximateCount(ctx, dlqURL)
			if err != nil {
				t.Fatal(err)
			}
			if n == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("message never reached the DLQ")
			}
			time.Sleep(200 * time.Millisecond)
		}
		if n, _ := q.ApproximateCount(ctx, qurl); n != 0 {
			t.Fatalf("source queue still has %d", n)
		}
		m := receiveOne(t, c, dlqURL, 1)
		if aws.ToString(m.Body) != "poison" {
			t.Fatalf("DLQ body %q", aws.ToString(m.Body))
		}
	})
}

func TestSQSStopLeavesNoProcess(t *testing.T) {
	q, err := stack.StartSQS(t.Context(), stack.SQSOptions{Logger: stacktest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	pid := q.Pid()
	if err := q.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); err != syscall.ESRCH {
		t.Fatalf("goaws %d still exists: %v", pid, err)
	}
	if left := stacktest.ProcessesMentioning(q.LogPath()[:strings.LastIndex(q.LogPath(), "/")]); len(left) > 0 {
		t.Fatalf("left behind: %v", left)
	}
}

func receive(t *testing.T, c *sqs.Client, qurl string, wait int32) []types.Message {
	t.Helper()
	out, err := c.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(qurl), WaitTimeSeconds: wait, MaxNumberOfMessages: 10,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Messages
}

func receiveOne(t *testing.T, c *sqs.Client, qurl string, wait int32) types.Message {
	t.Helper()
	ms := receive(t, c, qurl, wait)
	if len(ms) != 1 {
		t.Fatalf("received %d messages, want 1", len(ms))
	}
	return ms[0]
}

func deleteAll(t *testing.T, c *sqs.Client, qurl string, ms []types.Message) {
	t.Helper()
	for start := 0; start < len(ms); start += 10 {
		var entries []types.DeleteMessageBatchRequestEntry
		for i, m := range ms[start:min(start+10, len(ms))] {
			entries = append(entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
		}
		out, err := c.DeleteMessageBatch(t.Context(), &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(qurl), Entries: entries})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Failed) > 0 {
			t.Fatalf("DeleteMessageBatch failed entries: %+v", out.Failed)
		}
	}
}

// TestSQSReceiveResponsesStayWhole: the stack's client drains a queue with
// nothing left in flight (10–30 of 2,000 were, before internal/httpbody).
func TestSQSReceiveResponsesStayWhole(t *testing.T) {
	q := startSQS(t)
	qurl, err := q.CreateQueue(t.Context(), "whole", stack.QueueOptions{VisibilityTimeout: 60})
	if err != nil {
		t.Fatal(err)
	}
	stacktest.CheckReceivesWhole(t, q, q.Client(), qurl, 2000)
}
