package localaws

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// ObjectEvent describes one S3 object event. Zero fields get realistic
// defaults: EventName "ObjectCreated:Put", Time now, Sequencer derived from
// Time (so later events of a key sort later, as S3 guarantees), ETag the MD5
// of nothing. VersionID is emitted only when set, as S3 omits it for
// unversioned buckets.
type ObjectEvent struct {
	Bucket    string
	Key       string // the real key; builders encode it as each format requires
	Size      int64
	ETag      string // without quotes
	VersionID string
	Sequencer string
	EventName string
	Time      time.Time
}

// Fixed identities used in generated events; they have the real formats.
const (
	eventPrincipal    = "AWS:AIDAJDPLRKLG7UEXAMPLE"
	bucketOwner       = "A3NL1KOZZKExample"
	eventSourceIP     = "127.0.0.1"
	eventTimeLayout   = "2006-01-02T15:04:05.000Z" // S3 and SNS: UTC, milliseconds
	ebTimeLayout      = "2006-01-02T15:04:05Z"     // EventBridge: UTC, seconds
	emptyMD5          = "d41d8cd98f00b204e9800998ecf8427e"
	s3ConfigurationID = "rin-local-notification"
)

// WithDefaults returns e with the defaults of its zero fields filled in, as
// the bodies carry it.
func (e ObjectEvent) WithDefaults() ObjectEvent {
	if e.EventName == "" {
		e.EventName = "ObjectCreated:Put"
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.Time = e.Time.UTC()
	if e.Sequencer == "" {
		e.Sequencer = fmt.Sprintf("%018X", e.Time.UnixNano())
	}
	if e.ETag == "" {
		e.ETag = emptyMD5
	}
	return e
}

// s3Record is one element of a notification's Records, field for field as
// S3 sends it (event structure version 2.1).
type s3Record struct {
	EventVersion      string            `json:"eventVersion"`
	EventSource       string            `json:"eventSource"`
	AWSRegion         string            `json:"awsRegion"`
	EventTime         string            `json:"eventTime"`
	EventName         string            `json:"eventName"`
	UserIdentity      principal         `json:"userIdentity"`
	RequestParameters map[string]string `json:"requestParameters"`
	ResponseElements  map[string]string `json:"responseElements"`
	S3                s3Entity          `json:"s3"`
}

type principal struct {
	PrincipalID string `json:"principalId"`
}

type s3Entity struct {
	SchemaVersion   string   `json:"s3SchemaVersion"`
	ConfigurationID string   `json:"configurationId"`
	Bucket          s3Bucket `json:"bucket"`
	Object          s3Object `json:"object"`
}

type s3Bucket struct {
	Name          string    `json:"name"`
	OwnerIdentity principal `json:"ownerIdentity"`
	ARN           string    `json:"arn"`
}

type s3Object struct {
	Key       string `json:"key"`
	Size      int64  `json:"size"`
	ETag      string `json:"eTag"`
	VersionID string `json:"versionId,omitempty"`
	Sequencer string `json:"sequencer"`
}

// S3EventBody returns an S3 event notification message body with one record
// per event, as S3 delivers to SQS (keys form-encoded, see EncodeEventKey).
func S3EventBody(events ...ObjectEvent) string {
	recs := make([]s3Record, 0, len(events))
	for _, e := range events {
		e = e.WithDefaults()
		recs = append(recs, s3Record{
			EventVersion:      "2.1",
			EventSource:       "aws:s3",
			AWSRegion:         Region,
			EventTime:         e.Time.Format(eventTimeLayout),
			EventName:         e.EventName,
			UserIdentity:      principal{eventPrincipal},
			RequestParameters: map[string]string{"sourceIPAddress": eventSourceIP},
			ResponseElements:  map[string]string{"x-amz-request-id": requestID(e), "x-amz-id-2": hostID(e)},
			S3: s3Entity{
				SchemaVersion:   "1.0",
				ConfigurationID: s3ConfigurationID,
				Bucket:          s3Bucket{Name: e.Bucket, OwnerIdentity: principal{bucketOwner}, ARN: "arn:aws:s3:::" + e.Bucket},
				Object: s3Object{
					Key:       EncodeEventKey(e.Key),
					Size:      e.Size,
					ETag:      e.ETag,
					VersionID: e.VersionID,
					Sequencer: e.Sequencer,
				},
			},
		})
	}
	return marshal(struct {
		Records []s3Record `json:"Records"`
	}{recs})
}

// TestEventBody returns the s3:TestEvent message S3 sends when a
// notification configuration is saved; consumers must skip and delete it.
func TestEventBody(bucket string) string {
	now := time.Now().UTC()
	return marshal(struct {
		Service   string `json:"Service"`
		Event     string `json:"Event"`
		Time      string `json:"Time"`
		Bucket    string `json:"Bucket"`
		RequestID string `json:"RequestId"`
		HostID    string `json:"HostId"`
	}{"Amazon S3", "s3:TestEvent", now.Format(eventTimeLayout), bucket,
		requestID(ObjectEvent{Bucket: bucket, Time: now}), hostID(ObjectEvent{Bucket: bucket, Time: now})})
}

// SNSWrap wraps body in the SNS Notification envelope an SQS queue receives
// from a topic without raw message delivery: body becomes the JSON string
// Message. The signature fields have the real shape but are not valid.
func SNSWrap(body, topicArn string) string {
	id := uuid.NewString()
	region := Region
	if parts := strings.Split(topicArn, ":"); len(parts) > 3 && parts[3] != "" {
		region = parts[3]
	}
	return marshal(struct {
		Type             string `json:"Type"`
		MessageID        string `json:"MessageId"`
		TopicArn         string `json:"TopicArn"`
		Subject          string `json:"Subject"`
		Message          string `json:"Message"`
		Timestamp        string `json:"Timestamp"`
		SignatureVersion string `json:"SignatureVersion"`
		Signature        string `json:"Signature"`
		SigningCertURL   string `json:"SigningCertURL"`
		UnsubscribeURL   string `json:"UnsubscribeURL"`
	}{
		Type:             "Notification",
		MessageID:        id,
		TopicArn:         topicArn,
		Subject:          "Amazon S3 Notification",
		Message:          body,
		Timestamp:        time.Now().UTC().Format(eventTimeLayout),
		SignatureVersion: "1",
		Signature:        "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=",
		SigningCertURL:   "https://sns." + region + ".amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
		UnsubscribeURL:   "https://sns." + region + ".amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" + topicArn + ":" + id,
	})
}

// EventBridgeBody returns the "Object Created" event EventBridge delivers to
// SQS for ev. Unlike S3 notifications, EventBridge carries the key verbatim
// (not URL-encoded) and names fields in kebab case.
func EventBridgeBody(ev ObjectEvent) string {
	ev = ev.WithDefaults()
	type ebObject struct {
		Key       string `json:"key"`
		Size      int64  `json:"size"`
		ETag      string `json:"etag"`
		VersionID string `json:"version-id,omitempty"`
		Sequencer string `json:"sequencer"`
	}
	type ebDetail struct {
		Version         string            `json:"version"`
		Bucket          map[string]string `json:"bucket"`
		Object          ebObject          `json:"object"`
		RequestID       string            `json:"request-id"`
		Requester       string            `json:"requester"`
		SourceIPAddress string            `json:"source-ip-address"`
		Reason          string            `json:"reason"`
	}
	reason := "PutObject"
	switch ev.EventName {
	case "ObjectCreated:Post":
		reason = "POST Object"
	case "ObjectCreated:Copy":
		reason = "CopyObject"
	case "ObjectCreated:CompleteMultipartUpload":
		reason = "CompleteMultipartUpload"
	}
	return marshal(struct {
		Version    string   `json:"version"`
		ID         string   `json:"id"`
		DetailType string   `json:"detail-type"`
		Source     string   `json:"source"`
		Account    string   `json:"account"`
		Time       string   `json:"time"`
		Region     string   `json:"region"`
		Resources  []string `json:"resources"`
		Detail     ebDetail `json:"detail"`
	}{
		Version:    "0",
		ID:         uuid.NewString(),
		DetailType: "Object Created",
		Source:     "aws.s3",
		Account:    AccountID,
		Time:       ev.Time.Format(ebTimeLayout),
		Region:     Region,
		Resources:  []string{"arn:aws:s3:::" + ev.Bucket},
		Detail: ebDetail{
			Version:         "0",
			Bucket:          map[string]string{"name": ev.Bucket},
			Object:          ebObject{Key: ev.Key, Size: ev.Size, ETag: ev.ETag, VersionID: ev.VersionID, Sequencer: ev.Sequencer},
			RequestID:       requestID(ev),
			Requester:       AccountID,
			SourceIPAddress: eventSourceIP,
			Reason:          reason,
		},
	})
}

// requestID and hostID derive S3-shaped request ids from the event, so the
// same event always renders the same body.
func requestID(e ObjectEvent) string {
	sum := md5.Sum([]byte(e.Bucket + "\x00" + e.Key + "\x00" + e.Sequencer + e.Time.String()))
	return strings.ToUpper(hex.EncodeToString(sum[:8]))
}

func hostID(e ObjectEvent) string {
	sum := md5.Sum([]byte("host\x00" + e.Bucket + "\x00" + e.Key + "\x00" + e.Time.String()))
	return hex.EncodeToString(sum[:]) + "/EXAMPLEhostid"
}

// marshal encodes v without Go's HTML escaping (AWS does not turn & into
// \u0026) and without the trailing newline.
func marshal(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("stack: marshal event: %v", err)) // only plain structs are encoded
	}
	return strings.TrimSuffix(b.String(), "\n")
}
