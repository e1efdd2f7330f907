package sqsx

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// batchServer answers DeleteMessageBatch and ChangeMessageVisibilityBatch
// over SQS's JSON protocol, each request held until release is closed or
// hold passes, and records how many were in flight at once. Handles
// starting with "bad" fail as entries; a request carrying "boom" fails
// whole.
type batchServer struct {
	hold      time.Duration
	mu        sync.Mutex
	inFlight  int
	most      int
	calls     int
	processed map[string]int
}

func (s *batchServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.inFlight++
	s.calls++
	s.most = max(s.most, s.inFlight)
	s.mu.Unlock()
	defer func() { s.mu.Lock(); s.inFlight--; s.mu.Unlock() }()
	time.Sleep(s.hold) // a round trip's latency, so that concurrent requests overlap

	body, _ := io.ReadAll(r.Body)
	var in struct {
		Entries []struct{ Id, ReceiptHandle string }
	}
	if err := json.Unmarshal(body, &in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if strings.Contains(string(body), "boom") {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"__type":"com.amazonaws.sqs#InvalidAddress","message":"boom"}`)
		return
	}
	type ok struct{ Id string }
	type bad struct {
		Id, Code, Message string
		SenderFault       bool
	}
	var out struct {
		Successful []ok
		Failed     []bad
	}
	s.mu.Lock()
	for _, e := range in.Entries {
		if strings.HasPrefix(e.ReceiptHandle, "bad") {
			out.Failed = append(out.Failed, bad{Id: e.Id, Code: "InternalError", Message: "try again", SenderFault: false})
			continue
		}
		s.processed[e.ReceiptHandle]++
		out.Successful = append(out.Successful, ok{Id: e.Id})
	}
	s.mu.Unlock()
	json.NewEncoder(w).Encode(out)
}

// seen returns the requests so far and the most in flight at once, and
// starts counting again.
func (s *batchServer) seen() (calls, most int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	calls, most = s.calls, s.most
	s.calls, s.most = 0, 0
	return calls, most
}

func (s *batchServer) deleted(h string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.processed[h]
}

func batchQueue(t *testing.T, s *batchServer) *Queue {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	client := sqs.New(sqs.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1,
	})
	return &Queue{client: client, name: "q", url: srv.URL + "/123456789012/q",
		log: slog.New(slog.NewTextHandler(io.Discard, nil)), received: map[string]time.Time{}}
}

// TestBatchCallsRunConcurrently: a Delete or ChangeVisibility of many
// handles sends its batch requests batchCalls at a time, not one after the
// other (an ack pass of thousands of messages would otherwise be hundreds
// of round trips in a row), and still reports each handle's outcome.
func TestBatchCallsRunConcurrently(t *testing.T) {
	s := &batchServer{hold: 100 * time.Millisecond, processed: map[string]int{}}
	q := batchQueue(t, s)
	var handles []string
	for i := range 200 {
		h := "h" + strings.Repeat("x", i%3) + string(rune('a'+i%26)) + "-" + time.Duration(i).String()
		if i%50 == 7 {
			h = "bad-" + h
		}
		handles = append(handles, h)
	}
	failed, err := q.Delete(context.Background(), handles)
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if calls, most := s.seen(); calls != 20 || most != batchCalls {
		t.Fatalf("%d requests, at most %d at once; want 20 requests, %d at once", calls, most, batchCalls)
	}
	if len(failed) != 4 {
		t.Fatalf("%d handles failed, want the 4 bad ones: %v", len(failed), failed)
	}
	for _, h := range handles {
		_, isFailed := failed[h]
		if bad := strings.HasPrefix(h, "bad"); bad != isFailed || (!bad && s.deleted(h) != 1) {
			t.Fatalf("handle %s: failed %v, deleted %d times", h, isFailed, s.deleted(h))
		}
	}

	// ChangeVisibility goes the same way.
	if _, err := q.ChangeVisibility(context.Background(), handles[:95], time.Minute); err != nil {
		t.Fatalf("ChangeVisibility: %v", err)
	}
	if calls, most := s.seen(); calls != 10 || most != batchCalls {
		t.Fatalf("change visibility: %d requests, at most %d at once; want 10, %d", calls, most, batchCalls)
	}

	// A request that fails whole fails its handles and is the error; the
	// other batches still go.
	boom := append([]string{"boom"}, handles[100:119]...)
	failed, err = q.Delete(context.Background(), boom)
	if err == nil || len(failed) != 10 {
		t.Fatalf("Delete with a failing request: err %v, %d failed; want an error and that request's 10 handles", err, len(failed))
	}
	if _, ok := failed["boom"]; !ok || s.deleted(handles[118]) != 2 {
		t.Fatalf("failed %v; the other batch deleted %d times", failed, s.deleted(handles[118]))
	}

	// A cancelled context fails what was not sent with the context's error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	failed, err = q.Delete(ctx, handles[:30])
	if !errors.Is(err, context.Canceled) || len(failed) != 30 {
		t.Fatalf("cancelled Delete: err %v, %d failed; want context.Canceled and all 30", err, len(failed))
	}
}
