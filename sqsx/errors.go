package sqsx

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/smithy-go"
)

var (
	// ErrStaleHandle means SQS no longer accepts a receipt handle: the
	// message became visible again and was (or can be) received anew, or it
	// is already gone. Whatever the caller did with it may be repeated by
	// another receiver, which dedupe must absorb. After a Delete whose
	// request was retried it can also mean the first attempt deleted it.
	ErrStaleHandle = errors.New("sqsx: stale receipt handle")
	// ErrVisibilityLimit means a message has used up the 12 hours SQS lets
	// it stay in flight, so its visibility cannot be extended.
	ErrVisibilityLimit = errors.New("sqsx: message at SQS's 12h visibility limit")
)

// EntryError is SQS's report on one entry of a batch request.
type EntryError struct {
	Queue       string
	Op          string // "delete" or "change visibility"
	Code        string
	Message     string
	SenderFault bool
}

func (e *EntryError) Error() string {
	return fmt.Sprintf("sqsx: queue %q: %s: %s: %s", e.Queue, e.Op, e.Code, e.Message)
}

// Is makes errors.Is(err, ErrStaleHandle) true for stale-handle reports.
func (e *EntryError) Is(target error) bool {
	return target == ErrStaleHandle && staleCode(e.Code, e.Message)
}

// staleCode tells whether an SQS error code and message say the receipt
// handle is no longer valid. It covers real SQS (ReceiptHandleIsInvalid,
// MessageNotInflight, and InvalidParameterValue naming the ReceiptHandle)
// and goaws, which reports an unknown handle in DeleteMessageBatch as code
// "1", "Message not found", and in ChangeMessageVisibility as
// "AWS.SimpleQueueService.MessageNotInFlight".
func staleCode(code, msg string) bool {
	c := strings.ToLower(code)
	switch {
	case strings.Contains(c, "receipthandleisinvalid"), strings.Contains(c, "messagenotinflight"):
		return true
	case strings.Contains(c, "invalidparametervalue"):
		return strings.Contains(strings.ToLower(msg), "receipthandle")
	default:
		return strings.EqualFold(msg, "Message not found")
	}
}

func isStale(err error) bool { return errors.Is(err, ErrStaleHandle) }

// handleErr turns a single-handle request's error into ErrStaleHandle when
// SQS says the handle is stale; otherwise it returns nil.
func (q *Queue) handleErr(op string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) && staleCode(ae.ErrorCode(), ae.ErrorMessage()) {
		return fmt.Errorf("sqsx: queue %q: %s: %w: %w", q.name, op, ErrStaleHandle, err)
	}
	return nil
}

func (q *Queue) limitErr() error {
	return fmt.Errorf("sqsx: queue %q: change visibility: %w", q.name, ErrVisibilityLimit)
}

// isUnsupported tells whether a request failed because the server does not
// know the operation: goaws answers an unknown action with a 400 and a
// plain-text body that is no SQS error at all; other emulators name it.
func isUnsupported(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "InvalidAction", "UnknownOperationException", "UnsupportedOperation", "NotImplemented":
			return true
		}
		return false
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) {
		switch status.HTTPStatusCode() {
		case 400, 404, 405, 501:
			return true
		}
	}
	return false
}
