package sqsx

import (
	"errors"
	"testing"
	"time"

	"github.com/rinhq/rin/internal/localaws"
)

// The stack package builds the event bodies rin's other tests send; ParseBody
// must read back exactly the object each describes, in every envelope.
func TestParseStackEvents(t *testing.T) {
	at := time.Date(2024, 5, 1, 12, 34, 56, 789e6, time.UTC)
	keys := []string{
		"plain.json", "a b.json", "a+b.json", "あ.json", "it's; drop.json",
		"dt=2024-05-01/part:0~1*.gz", "100%.csv", "c++/x?y#z&w.json", " lead and trail ",
	}
	for _, key := range keys {
		ev := localaws.ObjectEvent{
			Bucket: "bkt", Key: key, Size: 7, ETag: "0123456789abcdef0123456789abcdef",
			VersionID: "v1", Sequencer: "0055AED6DCD90281E5", EventName: "ObjectCreated:Put", Time: at,
		}
		want := Record{
			Bucket: ev.Bucket, Key: key, Size: ev.Size, ETag: ev.ETag, VersionID: ev.VersionID,
			Sequencer: ev.Sequencer, EventName: ev.EventName, EventTime: at,
		}
		bodies := map[string]string{
			"s3":          localaws.S3EventBody(ev),
			"sns":         localaws.SNSWrap(localaws.S3EventBody(ev), "arn:aws:sns:us-east-1:100010001000:topic"),
			"eventbridge": localaws.EventBridgeBody(ev),
		}
		for kind, body := range bodies {
			got, err := ParseBody(body)
			if err != nil {
				t.Errorf("%s %q: %v", kind, key, err)
				continue
			}
			w := want
			if kind == "eventbridge" {
				w.EventTime = at.Truncate(time.Second) // EventBridge times have seconds only
			}
			if len(got) != 1 || got[0] != w {
				t.Errorf("%s %q:\n got %+v\nwant %+v", kind, key, got, w)
			}
		}
	}

	two, err := ParseBody(localaws.S3EventBody(
		localaws.ObjectEvent{Bucket: "b", Key: "1"},
		localaws.ObjectEvent{Bucket: "b", Key: "gone", EventName: "ObjectRemoved:Delete"},
		localaws.ObjectEvent{Bucket: "b", Key: "2", EventName: "ObjectCreated:CompleteMultipartUpload"},
	))
	if err != nil || len(two) != 2 || two[0].Key != "1" || two[1].Key != "2" || two[1].Version() == "" {
		t.Errorf("several records: %+v, %v", two, err)
	}
	if _, err := ParseBody(localaws.TestEventBody("b")); !errors.Is(err, ErrTestEvent) {
		t.Errorf("test event: %v", err)
	}
	if _, err := ParseBody(localaws.SNSWrap(localaws.TestEventBody("b"), "arn:aws:sns:us-east-1:100010001000:t")); !errors.Is(err, ErrTestEvent) {
		t.Errorf("SNS-wrapped test event: %v", err)
	}
}
