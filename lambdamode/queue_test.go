package lambdamode

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

func record(id, body string) events.SQSMessage {
	return events.SQSMessage{
		MessageId: id, ReceiptHandle: "handle-" + id, Body: body, EventSource: "aws:sqs",
		Attributes: map[string]string{"ApproximateReceiveCount": "2", "SentTimestamp": "1700000000123"},
	}
}

func TestQueueHandsOutOnceAndTracksDeletes(t *testing.T) {
	q, err := NewQueue([]events.SQSMessage{record("a", "1"), record("b", "2"), record("a", "1 again"), record("c", "3")})
	if err != nil {
		t.Fatal(err)
	}
	if q.Len() != 3 {
		t.Fatalf("Len = %d, want 3 (a redelivered id is one message)", q.Len())
	}
	ctx := context.Background()
	first, _ := q.Receive(ctx, 2, time.Second, time.Minute)
	second, _ := q.Receive(ctx, 10, time.Second, time.Minute)
	third, _ := q.Receive(ctx, 10, time.Second, time.Minute)
	if len(first) != 2 || len(second) != 1 || len(third) != 0 {
		t.Fatalf("receives = %d, %d, %d messages; want 2, 1, 0", len(first), len(second), len(third))
	}
	m := first[0]
	if m.ID != "a" || m.ReceiptHandle != "a" || m.Body != "1" || m.ReceiveCount != 2 || m.SentAt.UnixMilli() != 1700000000123 {
		t.Fatalf("first message = %+v", m)
	}
	failed, err := q.Delete(ctx, []string{"a", "c", "nope"})
	if err != nil {
		t.Fatal(err)
	}
	if len(failed) != 1 || failed["nope"] == nil {
		t.Fatalf("Delete failures = %v, want only the unknown handle", failed)
	}
	if got := q.Undeleted(); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("Undeleted = %v, want [b]", got)
	}
	if f, err := q.ChangeVisibility(ctx, []string{"b"}, time.Minute); f != nil || err != nil {
		t.Fatalf("ChangeVisibility = %v, %v; want a no-op", f, err)
	}
}

func TestQueueDeleteOfUnreceivedFails(t *testing.T) {
	q, _ := NewQueue([]events.SQSMessage{record("a", "1")})
	failed, _ := q.Delete(context.Background(), []string{"a"})
	if failed["a"] == nil {
		t.Fatal("deleting a message never handed out succeeded")
	}
}

func TestQueueRefusesRecordWithoutID(t *testing.T) {
	_, err := NewQueue([]events.SQSMessage{record("a", "1"), record("", "2")})
	if !errors.Is(err, ErrNoMessageID) {
		t.Fatalf("err = %v, want ErrNoMessageID", err)
	}
}

func TestQueueReceiveAfterCancel(t *testing.T) {
	q, _ := NewQueue([]events.SQSMessage{record("a", "1")})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if msgs, err := q.Receive(ctx, 10, 0, 0); err == nil || len(msgs) != 0 {
		t.Fatalf("Receive after cancel = %v, %v", msgs, err)
	}
	if got := q.Undeleted(); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("Undeleted = %v", got)
	}
}
