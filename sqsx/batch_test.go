package sqsx

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func TestVisibilityCap(t *testing.T) {
	now := time.Now()
	q := &Queue{name: "q", log: slog.Default(), received: map[string]time.Time{
		"fresh":   now.Add(-time.Minute),
		"old":     now.Add(-11 * time.Hour),
		"spent":   now.Add(-maxVisibility + 3*time.Second),
		"overdue": now.Add(-13 * time.Hour),
	}}
	tests := []struct {
		handle  string
		timeout time.Duration
		want    int32
		capped  bool
		err     error
	}{
		{"fresh", 90 * time.Second, 90, false, nil},
		{"fresh", 1500 * time.Millisecond, 1, false, nil},
		{"fresh", 0, 0, false, nil},
		{"fresh", -time.Second, 0, false, nil},
		{"fresh", 24 * time.Hour, int32((maxVisibility - time.Minute - visibilityMargin) / time.Second), true, nil},
		{"old", 2 * time.Hour, int32((time.Hour - visibilityMargin) / time.Second), true, nil},
		{"old", 30 * time.Minute, 1800, false, nil},
		{"spent", time.Minute, 0, false, ErrVisibilityLimit},
		{"spent", 0, 0, false, nil}, // releasing is always allowed
		{"overdue", time.Minute, 0, false, ErrVisibilityLimit},
		{"unknown", 24 * time.Hour, int32(maxVisibility / time.Second), true, nil},
		{"unknown", time.Hour, 3600, false, nil},
	}
	for _, tt := range tests {
		got, capped, err := q.visibilityFor(tt.handle, tt.timeout, now)
		if !errors.Is(err, tt.err) {
			t.Errorf("%s %v: err %v, want %v", tt.handle, tt.timeout, err, tt.err)
			continue
		}
		// Allow a second of slack for the rounding of elapsed time.
		if d := got - tt.want; d < -1 || d > 1 || capped != tt.capped {
			t.Errorf("%s %v: got %d capped %v, want %d capped %v", tt.handle, tt.timeout, got, capped, tt.want, tt.capped)
		}
	}
}

func TestStaleCode(t *testing.T) {
	tests := []struct {
		code, msg string
		want      bool
	}{
		{"ReceiptHandleIsInvalid", "The input receipt handle is invalid.", true},
		{"AWS.SimpleQueueService.ReceiptHandleIsInvalid", "", true},
		{"MessageNotInflight", "", true},
		{"AWS.SimpleQueueService.MessageNotInFlight", "The message referred to isn't in flight.", true},
		{"InvalidParameterValue", "Value x for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.", true},
		{"InvalidParameterValue", "Value 99999 for parameter VisibilityTimeout is invalid.", false},
		{"1", "Message not found", true}, // goaws DeleteMessageBatch
		{"InternalError", "boom", false},
		{"AWS.SimpleQueueService.NonExistentQueue", "", false},
	}
	for _, tt := range tests {
		if got := staleCode(tt.code, tt.msg); got != tt.want {
			t.Errorf("staleCode(%q, %q) = %v", tt.code, tt.msg, got)
		}
		e := &EntryError{Code: tt.code, Message: tt.msg}
		if got := errors.Is(e, ErrStaleHandle); got != tt.want {
			t.Errorf("errors.Is(EntryError %q) = %v", tt.code, got)
		}
	}
}

func TestIsUnsupported(t *testing.T) {
	respErr := func(status int, err error) error {
		return &smithy.OperationError{ServiceID: "SQS", OperationName: "ChangeMessageVisibilityBatch", Err: &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err},
		}}
	}
	// goaws: 400 with a body that is no SQS error.
	if !isUnsupported(respErr(400, &smithy.DeserializationError{Err: errors.New("invalid character 'B'")})) {
		t.Error("goaws's unknown-action answer not recognised")
	}
	if !isUnsupported(respErr(400, &smithy.GenericAPIError{Code: "InvalidAction"})) {
		t.Error("InvalidAction not recognised")
	}
	if isUnsupported(respErr(400, &smithy.GenericAPIError{Code: "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"})) {
		t.Error("a real SQS error taken for an unsupported operation")
	}
	if isUnsupported(respErr(500, &smithy.DeserializationError{Err: errors.New("x")})) {
		t.Error("a 500 taken for an unsupported operation")
	}
	if isUnsupported(errors.New("dial tcp: connection refused")) {
		t.Error("a transport error taken for an unsupported operation")
	}
}

// The SDK's standard retryer (the default) treats the connection errors
// goaws causes as retryable, so Queue needs no retryer of its own.
func TestDefaultRetryerRetriesClosedConnections(t *testing.T) {
	r := retry.NewStandard()
	for _, err := range []error{
		&smithyhttp.RequestSendError{Err: &net.OpError{Op: "read", Net: "tcp", Err: net.ErrClosed}},
		&smithy.DeserializationError{Err: errors.New("read tcp 127.0.0.1:1->127.0.0.1:2: use of closed network connection")},
		&smithyhttp.RequestSendError{Err: errors.New("read: connection reset by peer")},
	} {
		if !r.IsErrorRetryable(err) {
			t.Errorf("not retryable: %v", err)
		}
	}
}
