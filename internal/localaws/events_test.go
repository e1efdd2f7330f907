package localaws_test

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rinhq/rin/internal/localaws"
)

const trickyKey = "a b+c/ü'x;.json"

func TestEncodeEventKey(t *testing.T) {
	for key, want := range map[string]string{
		trickyKey:                 "a+b%2Bc/%C3%BC%27x%3B.json",
		"red flower.jpg":          "red+flower.jpg",
		"dt=2024-01-01/10:47.log": "dt%3D2024-01-01/10%3A47.log",
		"photo (1)~*_-.jpg":       "photo+%281%29%7E*_-.jpg",
		"100%&?#.csv":             "100%25%26%3F%23.csv",
		"plain/path/file.json.gz": "plain/path/file.json.gz",
	} {
		got := localaws.EncodeEventKey(key)
		if got != want {
			t.Errorf("EncodeEventKey(%q) = %q, want %q", key, got, want)
		}
		if dec, err := url.QueryUnescape(got); err != nil || dec != key {
			t.Errorf("QueryUnescape(%q) = %q, %v; want %q", got, dec, err, key)
		}
	}
}

func TestS3EventBodyShape(t *testing.T) {
	at := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("x", 3600))
	body := localaws.S3EventBody(
		localaws.ObjectEvent{Bucket: "bkt", Key: trickyKey, Size: 42, ETag: "0123456789abcdef0123456789abcdef", VersionID: "v1", Sequencer: "0055AED6DCD90281E5", Time: at},
		localaws.ObjectEvent{Bucket: "bkt", Key: "second", Size: 1},
	)
	var msg struct {
		Records []struct {
			EventVersion      string            `json:"eventVersion"`
			EventSource       string            `json:"eventSource"`
			AWSRegion         string            `json:"awsRegion"`
			EventTime         string            `json:"eventTime"`
			EventName         string            `json:"eventName"`
			UserIdentity      map[string]string `json:"userIdentity"`
			RequestParameters map[string]string `json:"requestParameters"`
			ResponseElements  map[string]string `json:"responseElements"`
			S3                struct {
				SchemaVersion   string `json:"s3SchemaVersion"`
				ConfigurationID string `json:"configurationId"`
				Bucket          struct {
					Name          string            `json:"name"`
					OwnerIdentity map[string]string `json:"ownerIdentity"`
					ARN           string            `json:"arn"`
				} `json:"bucket"`
				Object map[string]any `json:"object"`
			} `json:"s3"`
		} `json:"Records"`
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&msg); err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	if len(msg.Records) != 2 {
		t.Fatalf("%d records", len(msg.Records))
	}
	r := msg.Records[0]
	if r.EventVersion != "2.1" || r.EventSource != "aws:s3" || r.AWSRegion != localaws.Region || r.EventName != "ObjectCreated:Put" {
		t.Fatalf("header fields: %+v", r)
	}
	if r.EventTime != "2024-05-06T06:08:09.123Z" {
		t.Fatalf("eventTime %q", r.EventTime)
	}
	if r.UserIdentity["principalId"] == "" || r.RequestParameters["sourceIPAddress"] == "" ||
		!regexp.MustCompile(`^[0-9A-F]{16}$`).MatchString(r.ResponseElements["x-amz-request-id"]) || r.ResponseElements["x-amz-id-2"] == "" {
		t.Fatalf("identity/request fields: %+v", r)
	}
	if r.S3.SchemaVersion != "1.0" || r.S3.ConfigurationID == "" || r.S3.Bucket.Name != "bkt" ||
		r.S3.Bucket.ARN != "arn:aws:s3:::bkt" || r.S3.Bucket.OwnerIdentity["principalId"] == "" {
		t.Fatalf("s3 fields: %+v", r.S3)
	}
	obj := r.S3.Object
	if obj["key"] != "a+b%2Bc/%C3%BC%27x%3B.json" || obj["size"] != float64(42) || obj["eTag"] != "0123456789abcdef0123456789abcdef" ||
		obj["versionId"] != "v1" || obj["sequencer"] != "0055AED6DCD90281E5" || len(obj) != 5 {
		t.Fatalf("object: %v", obj)
	}
	// Defaults: no versionId key at all for unversioned objects, a 18-hex
	// sequencer, the empty MD5.
	obj2 := msg.Records[1].S3.Object
	if _, ok := obj2["versionId"]; ok {
		t.Fatalf("versionId present for unversioned object: %v", obj2)
	}
	if !regexp.MustCompile(`^[0-9A-F]{18}$`).MatchString(obj2["sequencer"].(string)) || obj2["eTag"] != "d41d8cd98f00b204e9800998ecf8427e" {
		t.Fatalf("defaults: %v", obj2)
	}
	if msg.Records[1].EventName != "ObjectCreated:Put" || !strings.HasSuffix(msg.Records[1].EventTime, "Z") {
		t.Fatalf("defaults: %+v", msg.Records[1])
	}
}

func TestTestEventBody(t *testing.T) {
	var m map[string]string
	if err := json.Unmarshal([]byte(localaws.TestEventBody("bkt")), &m); err != nil {
		t.Fatal(err)
	}
	if m["Service"] != "Amazon S3" || m["Event"] != "s3:TestEvent" || m["Bucket"] != "bkt" || m["Time"] == "" || m["RequestId"] == "" || m["HostId"] == "" || len(m) != 6 {
		t.Fatalf("%v", m)
	}
}

func TestSNSWrap(t *testing.T) {
	inner := localaws.S3EventBody(localaws.ObjectEvent{Bucket: "b", Key: "k&<>"})
	arn := "arn:aws:sns:eu-west-1:123456789012:uploads"
	body := localaws.SNSWrap(inner, arn)
	if strings.Contains(body, `\u0026`) {
		t.Fatalf("HTML-escaped envelope: %s", body)
	}
	var env map[string]string
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		t.Fatal(err)
	}
	if env["Type"] != "Notification" || env["TopicArn"] != arn || env["Subject"] != "Amazon S3 Notification" ||
		env["Message"] != inner || env["SignatureVersion"] != "1" || env["MessageId"] == "" || env["Signature"] == "" ||
		!strings.HasPrefix(env["SigningCertURL"], "https://sns.eu-west-1.amazonaws.com/") || !strings.Contains(env["UnsubscribeURL"], arn) {
		t.Fatalf("%v", env)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000Z", env["Timestamp"]); err != nil {
		t.Fatalf("Timestamp %q: %v", env["Timestamp"], err)
	}
}

func TestEventBridgeBody(t *testing.T) {
	at := time.Date(2024, 5, 6, 7, 8, 9, 500e6, time.UTC)
	body := localaws.EventBridgeBody(localaws.ObjectEvent{Bucket: "bkt", Key: trickyKey, Size: 7, ETag: "e", VersionID: "v", Sequencer: "00617F08299329D189", Time: at})
	var ev struct {
		Version    string   `json:"version"`
		ID         string   `json:"id"`
		DetailType string   `json:"detail-type"`
		Source     string   `json:"source"`
		Account    string   `json:"account"`
		Time       string   `json:"time"`
		Region     string   `json:"region"`
		Resources  []string `json:"resources"`
		Detail     struct {
			Version         string            `json:"version"`
			Bucket          map[string]string `json:"bucket"`
			Object          map[string]any    `json:"object"`
			RequestID       string            `json:"request-id"`
			Requester       string            `json:"requester"`
			SourceIPAddress string            `json:"source-ip-address"`
			Reason          string            `json:"reason"`
		} `json:"detail"`
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	if ev.Version != "0" || ev.ID == "" || ev.DetailType != "Object Created" || ev.Source != "aws.s3" || ev.Time != "2024-05-06T07:08:09Z" ||
		ev.Region != localaws.Region || len(ev.Resources) != 1 || ev.Resources[0] != "arn:aws:s3:::bkt" || ev.Account == "" {
		t.Fatalf("%+v", ev)
	}
	d := ev.Detail
	if d.Version != "0" || d.Bucket["name"] != "bkt" || d.Reason != "PutObject" || d.RequestID == "" || d.Requester == "" {
		t.Fatalf("%+v", d)
	}
	if d.Object["key"] != trickyKey || d.Object["size"] != float64(7) || d.Object["etag"] != "e" || d.Object["version-id"] != "v" || d.Object["sequencer"] != "00617F08299329D189" {
		t.Fatalf("object %v (key must not be URL-encoded)", d.Object)
	}
	if strings.Contains(localaws.EventBridgeBody(localaws.ObjectEvent{Bucket: "b", Key: "k"}), "version-id") {
		t.Fatal("version-id present for unversioned object")
	}
}
