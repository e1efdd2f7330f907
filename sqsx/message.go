package sqsx

import (
	"strconv"
	"time"
)

// SQS system attribute names, as ReceiveMessage and Lambda's SQS events both
// report them.
const (
	attrReceiveCount = "ApproximateReceiveCount"
	attrSentAt       = "SentTimestamp"
)

// NewMessage builds a Message from what SQS reports about it: its id,
// receipt handle, body and system attributes by their SQS names. Queue.Receive
// and rin's Lambda mode (which gets the same fields in the event Lambda
// hands it) both build their messages here, so the engine sees one shape
// whichever source delivered them. Unparseable attributes are left zero:
// nothing correct depends on them.
func NewMessage(id, handle, body string, attrs map[string]string) Message {
	m := Message{ID: id, ReceiptHandle: handle, Body: body}
	if n, err := strconv.Atoi(attrs[attrReceiveCount]); err == nil {
		m.ReceiveCount = n
	}
	if ms, err := strconv.ParseInt(attrs[attrSentAt], 10, 64); err == nil {
		m.SentAt = time.UnixMilli(ms)
	}
	return m
}
