package sqsx

import (
	"context"
	"maps"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// visibilityMargin is kept below the 12h limit: Receive notes the time
// before its request, so SQS's clock starts a little later than ours, but
// clocks and request latency are not exact.
const visibilityMargin = 5 * time.Second

// Delete removes messages by receipt handle, in DeleteMessageBatch calls of
// at most 10.
//
// failed maps every handle that was not deleted to its reason; it is never
// nil. A handle SQS rejected as stale matches ErrStaleHandle (errors.Is);
// other entry failures are *EntryError. err is non-nil when a whole request
// failed (after the client's retries) or ctx ended; the handles it covered
// are in failed too, so callers may rely on failed alone. Duplicate handles
// are sent once.
func (q *Queue) Delete(ctx context.Context, handles []string) (failed map[string]error, err error) {
	handles = unique(handles)
	failed = map[string]error{}
	err = q.inBatches(ctx, "delete", handles, failed, func(ctx context.Context, batch []string, failed map[string]error) error {
		entries := make([]types.DeleteMessageBatchRequestEntry, len(batch))
		for i, h := range batch {
			entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(h)}
		}
		out, callErr := q.client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(q.url), Entries: entries})
		if callErr != nil {
			callErr = q.wrap("delete", callErr)
			for _, h := range batch {
				failed[h] = callErr
			}
			return callErr
		}
		ok := make([]string, 0, len(out.Successful))
		for _, s := range out.Successful {
			ok = append(ok, aws.ToString(s.Id))
		}
		q.collect("delete", batch, ok, out.Failed, failed)
		return nil
	})
	q.forget(handles, failed)
	if len(failed) > 0 {
		q.log.Warn("some messages were not deleted", "failed", len(failed), "of", len(handles))
	}
	return failed, err
}

// batchCalls is how many batch requests of one Delete or ChangeVisibility
// are in flight at once. One at a time, an ack pass of a few thousand
// messages is hundreds of round trips in a row (at 15 ms each on SQS, 3,000
// deletes take 4.5 s, longer than the COPY that loaded them); SQS serves
// concurrent requests on a queue without limit.
const batchCalls = 8

// inBatches runs call on handles in groups of maxBatch, up to batchCalls at
// a time. Each call records its own failures in the map it is given; they
// are merged into failed. It returns the first whole-request error, or the
// context's when ctx ends (the handles not sent then are failed with it).
func (q *Queue) inBatches(ctx context.Context, op string, handles []string, failed map[string]error,
	call func(ctx context.Context, batch []string, failed map[string]error) error) error {
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	slots := make(chan struct{}, batchCalls)
	for start := 0; start < len(handles); start += maxBatch {
		batch := handles[start:min(start+maxBatch, len(handles))]
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if cerr := ctx.Err(); cerr != nil {
			wg.Wait()
			_, err := q.failRest(failed, handles[start:], q.wrap(op, cerr))
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			own := map[string]error{}
			err := call(ctx, batch, own)
			mu.Lock()
			defer mu.Unlock()
			maps.Copy(failed, own)
			if err != nil && first == nil {
				first = err
			}
			<-slots
		}()
	}
	wg.Wait()
	return first
}

// ChangeVisibility sets the visibility timeout of in-flight messages to
// timeout from now: longer to keep a message hidden while it is still being
// worked on, zero to release it at once. Requests are batched by 10
// (ChangeMessageVisibilityBatch); servers without that call (goaws) get one
// ChangeMessageVisibility per handle instead.
//
// The cap: SQS rejects a change that would keep a message in flight for more
// than 12 hours after it was received. For handles this Queue received, the
// timeout is therefore cut to what is left of those 12 hours (less a few
// seconds' margin), and a handle with less than a second left fails with
// ErrVisibilityLimit instead of being sent. Other handles are capped at 12
// hours. Timeouts are whole seconds, rounded down.
//
// failed and err are as for Delete.
func (q *Queue) ChangeVisibility(ctx context.Context, handles []string, timeout time.Duration) (failed map[string]error, err error) {
	handles = unique(handles)
	failed = map[string]error{}
	now := time.Now()
	var todo []string
	secs := map[string]int32{}
	capped := 0
	for _, h := range handles {
		s, wasCapped, limitErr := q.visibilityFor(h, timeout, now)
		if limitErr != nil {
			failed[h] = limitErr
			continue
		}
		if wasCapped {
			capped++
		}
		secs[h] = s
		todo = append(todo, h)
	}
	if capped > 0 {
		q.log.Warn("visibility capped at SQS's 12h limit", "messages", capped, "requested", timeout)
	}
	err = q.inBatches(ctx, "change visibility", todo, failed, func(ctx context.Context, batch []string, failed map[string]error) error {
		if q.noVisibilityBatch.Load() {
			return q.changeEach(ctx, batch, secs, failed)
		}
		entries := make([]types.ChangeMessageVisibilityBatchRequestEntry, len(batch))
		for i, h := range batch {
			entries[i] = types.ChangeMessageVisibilityBatchRequestEntry{
				Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(h), VisibilityTimeout: secs[h],
			}
		}
		out, callErr := q.client.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{
			QueueUrl: aws.String(q.url), Entries: entries,
		})
		if callErr != nil && isUnsupported(callErr) {
			if q.noVisibilityBatch.CompareAndSwap(false, true) {
				q.log.Info("server lacks ChangeMessageVisibilityBatch; changing visibility one message at a time", "error", callErr)
			}
			return q.changeEach(ctx, batch, secs, failed)
		}
		if callErr != nil {
			callErr = q.wrap("change visibility", callErr)
			for _, h := range batch {
				failed[h] = callErr
			}
			return callErr
		}
		ok := make([]string, 0, len(out.Successful))
		for _, s := range out.Successful {
			ok = append(ok, aws.ToString(s.Id))
		}
		q.collect("change visibility", batch, ok, out.Failed, failed)
		return nil
	})
	if len(failed) > 0 {
		q.log.Warn("visibility not changed for some messages", "failed", len(failed), "of", len(handles))
	}
	return failed, err
}

// visibilityFor returns the seconds to request for handle h, and whether
// the 12h cap cut them.
func (q *Queue) visibilityFor(h string, timeout time.Duration, now time.Time) (int32, bool, error) {
	if timeout <= 0 {
		return 0, false, nil
	}
	limit := maxVisibility
	q.mu.Lock()
	at, known := q.received[h]
	q.mu.Unlock()
	if known {
		limit = maxVisibility - now.Sub(at) - visibilityMargin
	}
	d := timeout
	if d > limit {
		d = limit
	}
	if d < time.Second {
		return 0, false, q.limitErr()
	}
	return int32(d / time.Second), d < timeout, nil
}

// changeEach changes visibility one handle at a time; it returns the first
// error that is not about a single handle (such as ctx ending).
func (q *Queue) changeEach(ctx context.Context, batch []string, secs map[string]int32, failed map[string]error) error {
	var first error
	for i, h := range batch {
		if cerr := ctx.Err(); cerr != nil {
			_, err := q.failRest(failed, batch[i:], q.wrap("change visibility", cerr))
			return err
		}
		_, err := q.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
			QueueUrl: aws.String(q.url), ReceiptHandle: aws.String(h), VisibilityTimeout: secs[h],
		})
		if err == nil {
			continue
		}
		if e := q.handleErr("change visibility", err); e != nil {
			failed[h] = e
			continue
		}
		failed[h] = q.wrap("change visibility", err)
		if first == nil {
			first = failed[h]
		}
	}
	return first
}

// collect records the outcome of one batch: ids are the batch indexes as
// strings. An entry SQS reported neither way is counted as failed, so the
// caller tries again rather than assuming success.
func (q *Queue) collect(op string, batch []string, ok []string, bad []types.BatchResultErrorEntry, failed map[string]error) {
	done := make([]bool, len(batch))
	index := func(id string) int {
		i, err := strconv.Atoi(id)
		if err != nil || i < 0 || i >= len(batch) {
			return -1
		}
		return i
	}
	for _, id := range ok {
		if i := index(id); i >= 0 {
			done[i] = true
		}
	}
	for _, e := range bad {
		i := index(aws.ToString(e.Id))
		if i < 0 {
			continue
		}
		done[i] = true
		failed[batch[i]] = &EntryError{
			Queue: q.name, Op: op,
			Code: aws.ToString(e.Code), Message: aws.ToString(e.Message), SenderFault: e.SenderFault,
		}
	}
	for i, h := range batch {
		if !done[i] {
			failed[h] = &EntryError{Queue: q.name, Op: op, Code: "NoResult", Message: "SQS reported no result for this entry"}
		}
	}
}

// failRest marks the handles left over when ctx ended.
func (q *Queue) failRest(failed map[string]error, rest []string, err error) (map[string]error, error) {
	for _, h := range rest {
		failed[h] = err
	}
	return failed, err
}

// forget drops the receive times of handles that are gone: deleted, or
// rejected as stale.
func (q *Queue) forget(handles []string, failed map[string]error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, h := range handles {
		if err, bad := failed[h]; !bad || isStale(err) {
			delete(q.received, h)
		}
	}
}

// unique drops repeated handles, keeping the first order.
func unique(handles []string) []string {
	seen := make(map[string]bool, len(handles))
	out := make([]string, 0, len(handles))
	for _, h := range handles {
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}
