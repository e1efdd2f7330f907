package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rinhq/rin/internal/stack"
)

// world is what the demo created on the stack.
type world struct {
	Bucket, Queue, QueueURL, DLQURL string
}

// provision creates a bucket, a queue with its dead-letter queue, and the
// tables. Names are fresh on every run, so a run never sees an earlier
// run's leftovers even against a shared PostgreSQL (RIN_TEST_POSTGRES_DSN).
func provision(ctx context.Context, st *stack.Stack, p *plan) (*world, error) {
	suffix := randHex(4)
	w := &world{Bucket: "rin-demo-" + suffix, Queue: "rin_demo_" + suffix}
	if err := st.S3().CreateBucket(ctx, w.Bucket); err != nil {
		return nil, err
	}
	url, err := st.SQS().CreateQueue(ctx, w.Queue, stack.QueueOptions{VisibilityTimeout: 30, DeadLetter: true, MaxReceiveCount: 3})
	if err != nil {
		return nil, err
	}
	w.QueueURL = url
	if w.DLQURL, err = st.SQS().QueueURL(ctx, stack.DLQName(w.Queue)); err != nil {
		return nil, err
	}
	if err := createTables(ctx, st.BackendDSN(), p.Tables); err != nil {
		return nil, err
	}
	return w, nil
}

// createTables creates the schemas and tables on the PostgreSQL behind the
// simulator (what a DBA would have done on the cluster beforehand).
func createTables(ctx context.Context, dsn string, tables []*table) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("connect to postgres: %w", err)
	}
	defer conn.Close(context.Background())
	for _, t := range tables {
		for _, sql := range []string{
			"CREATE SCHEMA IF NOT EXISTS " + pgx.Identifier{t.Schema}.Sanitize(),
			"CREATE TABLE IF NOT EXISTS " + pgx.Identifier{t.Schema, t.Name}.Sanitize() + " (" + t.Columns + ")",
			"TRUNCATE " + pgx.Identifier{t.Schema, t.Name}.Sanitize(),
		} {
			if _, err := conn.Exec(ctx, sql); err != nil {
				return fmt.Errorf("%s: %w", sql, err)
			}
		}
	}
	return nil
}

// uploadConcurrency bounds parallel PutObjects; gofakes3 runs in-process,
// so more would only contend for the two cores.
const uploadConcurrency = 4

// upload stores every sample and returns their S3 events, in plan order.
func upload(ctx context.Context, st *stack.Stack, bucket string, samples []sample) ([]stack.ObjectEvent, error) {
	events := make([]stack.ObjectEvent, len(samples))
	errs := make([]error, len(samples))
	next := make(chan int)
	var wg sync.WaitGroup
	for range uploadConcurrency {
		wg.Go(func() {
			for i := range next {
				s := samples[i]
				etag, version, err := st.S3().PutObject(ctx, bucket, s.Key, s.Body)
				errs[i] = err
				events[i] = stack.ObjectEvent{Bucket: bucket, Key: s.Key, Size: int64(len(s.Body)), ETag: etag, VersionID: version, Time: time.Now()}
			}
		})
	}
	for i := range samples {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return events, nil
}

// notifications is the SQS traffic the demo sends, and what it is made of.
type notifications struct {
	Bodies      []string
	S3          int // plain S3 notifications
	MultiS3     int // of which with several records
	Records     int // object records over every message, duplicates included
	SNS         int // S3 notifications wrapped in an SNS envelope
	EventBridge int // EventBridge "Object Created" events
	Test        int // s3:TestEvent
	Duplicates  int // records sent a second time
}

// snsTopic is the topic of the SNS-wrapped notification.
const snsTopic = "arn:aws:sns:" + stack.Region + ":" + stack.AccountID + ":rin-demo-uploads"

// buildNotifications shapes the events into messages the way they reach a
// real queue: the s3:TestEvent S3 sends when notifications are configured,
// one EventBridge event, one notification through SNS, plain S3
// notifications (some with several records), and a duplicate delivery of
// an already sent event, which rin must load only once.
func buildNotifications(bucket string, events []stack.ObjectEvent, samples []sample) notifications {
	// How many records successive S3 notifications carry: mostly one, as
	// S3 sends them, sometimes several.
	groupSizes := []int{1, 1, 3, 1, 1, 2, 1, 1, 1, 5}
	var n notifications
	n.Bodies = append(n.Bodies, stack.TestEventBody(bucket))
	n.Test++
	n.Bodies = append(n.Bodies, stack.EventBridgeBody(events[0]))
	n.EventBridge++
	n.Records++
	n.Bodies = append(n.Bodies, stack.SNSWrap(stack.S3EventBody(events[1], events[2]), snsTopic))
	n.SNS++
	n.Records += 2
	for i, g := 3, 0; i < len(events); g++ {
		size := min(groupSizes[g%len(groupSizes)], len(events)-i)
		n.Bodies = append(n.Bodies, stack.S3EventBody(events[i:i+size]...))
		n.S3++
		if size > 1 {
			n.MultiS3++
		}
		n.Records += size
		i += size
	}
	// The duplicate: the first loadable object after the special shapes,
	// delivered again (S3 delivers at least once, SQS too).
	for i := 3; i < len(events); i++ {
		if samples[i].Dest != nil {
			n.Bodies = append(n.Bodies, stack.S3EventBody(events[i]))
			n.S3++
			n.Records++
			n.Duplicates++
			break
		}
	}
	return n
}

// randHex returns 2n random hex digits for fresh names.
func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
