package sqsx

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Record is one S3 object event, whatever envelope carried it.
type Record struct {
	Bucket    string
	Key       string // decoded: the object's real key, ready for S3 and COPY
	Size      int64
	ETag      string // without quotes
	VersionID string
	Sequencer string
	EventName string // e.g. "ObjectCreated:Put"
	EventTime time.Time
}

// Version identifies the object's content for dedupe: VersionID, else ETag,
// else Sequencer. A versioned bucket gives every write its own VersionID; an
// unversioned one still gives rewritten content a new ETag, and the Sequencer
// is the last resort for events that carry neither.
func (r Record) Version() string {
	switch {
	case r.VersionID != "":
		return r.VersionID
	case r.ETag != "":
		return r.ETag
	default:
		return r.Sequencer
	}
}

var (
	// ErrTestEvent means the body was the s3:TestEvent that S3 sends when a
	// notification is configured. It names no object: skip it and delete it.
	ErrTestEvent = errors.New("sqsx: s3:TestEvent message")
	// ErrMalformed means the body cannot be understood as an S3 event. It is
	// always wrapped with a short reason; the body itself is never quoted
	// beyond a short excerpt, since bodies can be large and may be sensitive.
	ErrMalformed = errors.New("sqsx: malformed message")
)

// maxExcerpt caps how much of any input an error message quotes.
const maxExcerpt = 200

// ParseBody turns one SQS message body into the objects it announces.
//
// It accepts:
//   - S3 event notifications ({"Records":[...]}) with one or more records;
//   - the s3:TestEvent message (returns ErrTestEvent);
//   - either of those wrapped in an SNS notification
//     ({"Type":"Notification","Message":"<json string>"}), also without
//     "Type", as the original Rin reads it (its fixture testeventsns.json
//     is such an envelope around an s3:TestEvent);
//   - S3 events delivered through EventBridge ("source":"aws.s3").
//
// Only object-creation events produce records: ObjectCreated:* notification
// records and EventBridge "Object Created" events. Removals, restores,
// tagging, lifecycle and other events are skipped, because there is nothing
// to load for them; a message made only of such events yields an empty slice
// and a nil error, so the caller can delete it.
//
// Keys in S3 notifications are form-URL-encoded ("+" is a space, "%XX" a
// byte) and are always decoded; EventBridge keys arrive unencoded and are
// used as they are. Anything else, or a record without a usable bucket and
// key, is ErrMalformed with a reason.
func ParseBody(body string) ([]Record, error) {
	recs, err := parseBody(body, false)
	if err != nil && !errors.Is(err, ErrTestEvent) {
		// Inner functions describe the problem; the sentinel goes first
		// so that messages read "sqsx: malformed message: record 2: ...".
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return recs, err
}

// parseBody parses body; inSNS is set for the message inside an SNS
// envelope, which may not be another SNS envelope.
//
// The common case, a plain S3 notification of object creations, is taken
// by parseFast in one decoding pass; whatever it declines, including every
// body that is wrong in any way, goes through parseSlow, which alone
// decides records skipped and errors returned.
func parseBody(body string, inSNS bool) ([]Record, error) {
	if recs, ok := parseFast(body); ok {
		return recs, nil
	}
	return parseSlow(body, inSNS)
}

// parseSlow is the general parser: it reads each part of the body on its
// own, so that it can tell exactly what is wrong, and looks members up by
// their exact names.
func parseSlow(body string, inSNS bool) ([]Record, error) {
	if strings.TrimSpace(body) == "" {
		return nil, malformed("empty body")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &top); err != nil {
		return nil, malformed("not a JSON object: %v", err)
	}
	// Fields are looked up by exact name: encoding/json matches struct
	// fields case-insensitively, and S3 test events ("Time") and EventBridge
	// events ("time") differ only in case.
	switch {
	case has(top, "Records"):
		return parseRecords(top["Records"])
	case has(top, "Event"):
		return nil, parseTestEvent(top)
	case has(top, "Type") && has(top, "Message"):
		if inSNS {
			return nil, malformed("SNS envelope inside an SNS envelope")
		}
		return parseSNS(top)
	case has(top, "detail-type"):
		return parseEventBridge(top)
	case has(top, "Message"):
		// An SNS envelope without "Type". The original Rin unwraps any
		// body with a "Message" string, so such test events and records
		// reached it and must reach rin too; shapes tried above keep
		// their meaning.
		if inSNS {
			return nil, malformed("SNS envelope inside an SNS envelope")
		}
		return parseSNS(top)
	default:
		return nil, malformed("not an S3 event, SNS notification or EventBridge event")
	}
}

func has(obj map[string]json.RawMessage, name string) bool {
	_, ok := obj[name]
	return ok
}

// stringField reads a string member; a missing member or JSON null is "".
func stringField(obj map[string]json.RawMessage, name string) (string, error) {
	raw, ok := obj[name]
	if !ok {
		return "", nil
	}
	var s *string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", malformed("%q is not a string", name)
	}
	if s == nil {
		return "", nil
	}
	return *s, nil
}

func parseTestEvent(top map[string]json.RawMessage) error {
	event, err := stringField(top, "Event")
	if err != nil {
		return err
	}
	if event == "s3:TestEvent" {
		return ErrTestEvent
	}
	return malformed("unknown Event %s", excerpt(event))
}

// parseSNS unwraps an SNS notification. A missing "Type" counts as
// "Notification" (see parseSlow); a present one must say so.
func parseSNS(top map[string]json.RawMessage) ([]Record, error) {
	typ, err := stringField(top, "Type")
	if err != nil {
		return nil, err
	}
	if has(top, "Type") && typ != "Notification" {
		// SubscriptionConfirmation and UnsubscribeConfirmation carry no event.
		return nil, malformed("SNS message of type %s", excerpt(typ))
	}
	msg, err := stringField(top, "Message")
	if err != nil {
		return nil, err
	}
	recs, err := parseBody(msg, true)
	if err != nil && !errors.Is(err, ErrTestEvent) {
		return nil, fmt.Errorf("in SNS Message: %w", err)
	}
	return recs, err
}

// s3Record is the part of a notification record that rin uses.
type s3Record struct {
	EventName string `json:"eventName"`
	EventTime string `json:"eventTime"`
	S3        struct {
		Bucket struct {
			Name string `json:"name"`
		} `json:"bucket"`
		Object struct {
			Key       string `json:"key"`
			Size      int64  `json:"size"`
			ETag      string `json:"eTag"`
			VersionID string `json:"versionId"`
			Sequencer string `json:"sequencer"`
		} `json:"object"`
	} `json:"s3"`
}

func parseRecords(raw json.RawMessage) ([]Record, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil || items == nil {
		return nil, malformed("Records is not an array")
	}
	if len(items) == 0 {
		return nil, malformed("Records is empty")
	}
	out := make([]Record, 0, len(items))
	for i, item := range items {
		rec, ok, err := parseRecord(item)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		if ok {
			out = append(out, rec)
		}
	}
	return out, nil
}

// parseRecord returns ok=false for records that are not object creations.
func parseRecord(item json.RawMessage) (Record, bool, error) {
	// The event name is read on its own first, so that a removal or other
	// skipped event is never rejected for the shape of fields rin ignores.
	var head map[string]json.RawMessage
	if err := json.Unmarshal(item, &head); err != nil || head == nil {
		return Record{}, false, malformed("not a JSON object")
	}
	name, err := stringField(head, "eventName")
	if err != nil {
		return Record{}, false, err
	}
	if name == "" {
		return Record{}, false, malformed("no eventName")
	}
	// Some S3-compatible stores prefix event names with "s3:".
	name = strings.TrimPrefix(name, "s3:")
	if !strings.HasPrefix(name, "ObjectCreated:") {
		return Record{}, false, nil
	}

	var r s3Record
	if err := json.Unmarshal(item, &r); err != nil {
		return Record{}, false, malformed("unexpected field types: %v", shortErr(err))
	}
	rec, err := r.record(name)
	if err != nil {
		return Record{}, false, err
	}
	return rec, true, nil
}

// record turns a decoded ObjectCreated record into a Record named name
// (the event name without any "s3:" prefix); parseRecord and parseFast
// share it so that both build records the same way.
func (r *s3Record) record(name string) (Record, error) {
	obj := r.S3.Object
	key, err := url.QueryUnescape(obj.Key)
	if err != nil {
		return Record{}, malformed("key %s is not form-URL-encoded: %v", excerpt(obj.Key), err)
	}
	rec := Record{
		Bucket:    r.S3.Bucket.Name,
		Key:       key,
		Size:      obj.Size,
		ETag:      strings.Trim(obj.ETag, `"`),
		VersionID: obj.VersionID,
		Sequencer: obj.Sequencer,
		EventName: name,
		EventTime: parseTime(r.EventTime),
	}
	if err := rec.check(); err != nil {
		return Record{}, err
	}
	return rec, nil
}

// ebEvent is the part of an EventBridge event that rin uses.
type ebEvent struct {
	Source     string `json:"source"`
	DetailType string `json:"detail-type"`
	Time       string `json:"time"`
	Detail     *struct {
		Bucket struct {
			Name string `json:"name"`
		} `json:"bucket"`
		Object struct {
			Key       string `json:"key"`
			Size      int64  `json:"size"`
			ETag      string `json:"etag"`
			VersionID string `json:"version-id"`
			Sequencer string `json:"sequencer"`
		} `json:"object"`
		Reason string `json:"reason"`
	} `json:"detail"`
}

// ebReasons maps EventBridge "reason" values to notification event names.
var ebReasons = map[string]string{
	"PutObject":               "ObjectCreated:Put",
	"POST Object":             "ObjectCreated:Post",
	"CopyObject":              "ObjectCreated:Copy",
	"CompleteMultipartUpload": "ObjectCreated:CompleteMultipartUpload",
}

func parseEventBridge(top map[string]json.RawMessage) ([]Record, error) {
	src, err := stringField(top, "source")
	if err != nil {
		return nil, err
	}
	if src != "aws.s3" {
		return nil, malformed("EventBridge event from source %s, not aws.s3", excerpt(src))
	}
	dt, err := stringField(top, "detail-type")
	if err != nil {
		return nil, err
	}
	if dt != "Object Created" {
		return []Record{}, nil // deletions, restores, tagging...: nothing to load
	}
	// Re-marshal only the members we use, so case-insensitive matching
	// cannot pick up look-alike members such as "Time".
	sub := map[string]json.RawMessage{}
	for _, k := range []string{"source", "detail-type", "time", "detail"} {
		if v, ok := top[k]; ok {
			sub[k] = v
		}
	}
	b, _ := json.Marshal(sub) // cannot fail: values are already valid JSON
	var ev ebEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		return nil, malformed("EventBridge event with unexpected field types: %v", shortErr(err))
	}
	if ev.Detail == nil {
		return nil, malformed("EventBridge event without detail")
	}
	d := ev.Detail
	name := ebReasons[d.Reason]
	if name == "" {
		name = "ObjectCreated:" + d.Reason
	}
	rec := Record{
		Bucket:    d.Bucket.Name,
		Key:       d.Object.Key, // EventBridge keys are not URL-encoded
		Size:      d.Object.Size,
		ETag:      strings.Trim(d.Object.ETag, `"`),
		VersionID: d.Object.VersionID,
		Sequencer: d.Object.Sequencer,
		EventName: name,
		EventTime: parseTime(ev.Time),
	}
	if err := rec.check(); err != nil {
		return nil, err
	}
	return []Record{rec}, nil
}

// check rejects records that cannot name an object.
func (r Record) check() error {
	switch {
	case r.Bucket == "":
		return malformed("empty bucket name")
	case r.Key == "":
		return malformed("empty key")
	case !utf8.ValidString(r.Key):
		return malformed("key %s is not valid UTF-8", excerpt(r.Key))
	case r.Size < 0:
		return malformed("negative size %d", r.Size)
	}
	return nil
}

// parseTime reads an ISO-8601 event time. A missing or odd time is not a
// reason to drop an object, so it yields the zero time instead of an error.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// malformed describes why a body is not understood; ParseBody wraps it
// with ErrMalformed.
func malformed(format string, args ...any) error {
	return fmt.Errorf(format, args...)
}

// excerpt quotes at most maxExcerpt bytes of s, cut on a rune boundary.
func excerpt(s string) string {
	if len(s) <= maxExcerpt {
		return fmt.Sprintf("%q", s)
	}
	cut := maxExcerpt
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q...(%d bytes)", s[:cut], len(s))
}

// shortErr keeps decoder errors short; they name types and fields, never
// values, but are capped all the same.
func shortErr(err error) string {
	s := err.Error()
	if len(s) > maxExcerpt {
		return s[:maxExcerpt] + "..."
	}
	return s
}
