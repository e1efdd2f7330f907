package e2e

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/rinhq/rin/internal/stack"
	"github.com/rinhq/rin/internal/stack/stacktest"
)

// sqsCeiling measures how fast the SQS emulator alone delivers: the same
// bodies on a queue of their own, drained by as many concurrent receivers
// as rin runs, each receiving up to 10 and deleting them in one batch, with
// nothing else done per message, until a receive comes back empty. rin
// cannot beat this on the same stack; the benchmark prints its result beside
// it, with the CPU goaws and the receivers (this process) used for it, to
// compare with what goaws needs during rin's run.
func sqsCeiling(b *testing.B, st *stack.Stack, bodies []string, receivers int) ceilingResult {
	ctx := context.Background()
	_, url := stacktest.NewQueue(b, st, stack.QueueOptions{VisibilityTimeout: 60})
	if err := sendConcurrently(ctx, st, url, bodies); err != nil {
		b.Fatal(err)
	}
	client := st.SQS().Client()
	var got atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	cpu0 := takeCPU(st)
	start := time.Now()
	for r := 0; r < receivers; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
					QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60,
				})
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				if len(out.Messages) == 0 {
					// Drained. goaws now and then breaks a receive's
					// response after marking its messages in flight (the SDK
					// retries; see BENCHMARKS.md): those stay hidden for the
					// visibility timeout, so they are left out here as rin's
					// -batch run leaves them for its next run.
					return
				}
				entries := make([]types.DeleteMessageBatchRequestEntry, len(out.Messages))
				for i, m := range out.Messages {
					entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle}
				}
				if _, err := client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: entries}); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				got.Add(int64(len(out.Messages)))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	use := cpuUsed(takeCPU(st).sub(cpu0), 0)
	if firstErr != nil {
		b.Fatalf("sqs ceiling: %v", firstErr)
	}
	n := int(got.Load())
	return ceilingResult{perSec: float64(n) / elapsed, msgs: n, wall: elapsed, use: use}
}

// ceilingResult is one measurement of the SQS ceiling. In use, rin is 0 and
// test is the receivers' own CPU.
type ceilingResult struct {
	perSec float64 // messages per second
	msgs   int     // messages received and deleted
	wall   float64 // seconds
	use    cpuUse
}
