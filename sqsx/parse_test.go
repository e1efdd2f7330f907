package sqsx

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rinhq/rin/internal/localaws"
)

// The bodies below follow the examples in the Amazon S3 user guide ("Event
// message structure", "EventBridge event message structure") and the SNS
// developer guide (notification JSON delivered to an SQS subscription).

const putEvent = `{
  "Records":[
    {
      "eventVersion":"2.1",
      "eventSource":"aws:s3",
      "awsRegion":"us-west-2",
      "eventTime":"1970-01-01T00:00:00.000Z",
      "eventName":"ObjectCreated:Put",
      "userIdentity":{"principalId":"AIDAJDPLRKLG7UEXAMPLE"},
      "requestParameters":{"sourceIPAddress":"127.0.0.1"},
      "responseElements":{
        "x-amz-request-id":"C3D13FE58DE4C810",
        "x-amz-id-2":"FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"
      },
      "s3":{
        "s3SchemaVersion":"1.0",
        "configurationId":"testConfigRule",
        "bucket":{
          "name":"mybucket",
          "ownerIdentity":{"principalId":"A3NL1KOZZKExample"},
          "arn":"arn:aws:s3:::mybucket"
        },
        "object":{
          "key":"HappyFace.jpg",
          "size":1024,
          "eTag":"d41d8cd98f00b204e9800998ecf8427e",
          "versionId":"096fKKXTRTtl3on89fVO.nfljtsv6qko",
          "sequencer":"0055AED6DCD90281E5"
        }
      }
    }
  ]
}`

var putRecord = Record{
	Bucket:    "mybucket",
	Key:       "HappyFace.jpg",
	Size:      1024,
	ETag:      "d41d8cd98f00b204e9800998ecf8427e",
	VersionID: "096fKKXTRTtl3on89fVO.nfljtsv6qko",
	Sequencer: "0055AED6DCD90281E5",
	EventName: "ObjectCreated:Put",
	EventTime: time.Unix(0, 0).UTC(),
}

const testEvent = `{
  "Service":"Amazon S3",
  "Event":"s3:TestEvent",
  "Time":"2014-10-13T15:57:02.089Z",
  "Bucket":"bucketname",
  "RequestId":"5582815E1AEA5ADF",
  "HostId":"8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE"
}`

const eventBridgeCreated = `{
  "version": "0",
  "id": "17793124-05d4-b198-2fde-7ededc63b103",
  "detail-type": "Object Created",
  "source": "aws.s3",
  "account": "111122223333",
  "time": "2021-11-12T00:00:00Z",
  "region": "ca-central-1",
  "resources": ["arn:aws:s3:::amzn-s3-demo-bucket1"],
  "detail": {
    "version": "0",
    "bucket": {"name": "amzn-s3-demo-bucket1"},
    "object": {
      "key": "logs/a b+c.json",
      "size": 5,
      "etag": "b1946ac92492d2347c6235b4d2611184",
      "version-id": "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e",
      "sequencer": "617f08299329d189"
    },
    "request-id": "N4N7GDK58NMKJ12R",
    "requester": "123456789012",
    "source-ip-address": "1.2.3.4",
    "reason": "PutObject"
  }
}`

// snsWrap wraps an inner body the way SNS delivers it to an SQS queue
// without raw message delivery.
func snsWrap(inner string) string {
	msg, _ := json.Marshal(inner)
	return `{
  "Type" : "Notification",
  "MessageId" : "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
  "TopicArn" : "arn:aws:sns:us-west-2:123456789012:MyTopic",
  "Subject" : "Amazon S3 Notification",
  "Message" : ` + string(msg) + `,
  "Timestamp" : "2012-05-02T00:54:06.655Z",
  "SignatureVersion" : "1",
  "Signature" : "EXAMPLEw6JRN...",
  "SigningCertURL" : "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
  "UnsubscribeURL" : "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-west-2:123456789012:MyTopic:c9135db0-26c4-47ec-8998-413945fb5a96"
}`
}

// bareSNS wraps an inner body in an SNS-like envelope with only a
// "Message", as the original Rin's fixture testeventsns.json does.
func bareSNS(inner string) string {
	msg, _ := json.Marshal(inner)
	return `{"Message": ` + string(msg) + `}`
}

// record builds one notification record for bucket/key (key as S3 sends it).
func record(event, bucket, key string) string {
	b, _ := json.Marshal(map[string]any{
		"eventVersion": "2.1",
		"eventSource":  "aws:s3",
		"awsRegion":    "us-east-1",
		"eventTime":    "2024-05-01T12:34:56.789Z",
		"eventName":    event,
		"s3": map[string]any{
			"s3SchemaVersion": "1.0",
			"bucket":          map[string]any{"name": bucket, "arn": "arn:aws:s3:::" + bucket},
			"object": map[string]any{
				"key":       key,
				"size":      42,
				"eTag":      "0123456789abcdef0123456789abcdef",
				"sequencer": "0A1B2C3D4E5F678901",
			},
		},
	})
	return string(b)
}

func records(rs ...string) string {
	return `{"Records":[` + strings.Join(rs, ",") + `]}`
}

type parseBodyCase struct {
	name string
	body string
	want []Record
	err  error
}

// parseBodyCases are TestParseBody's cases; TestParseFastMatchesSlow runs
// their bodies too.
func parseBodyCases() []parseBodyCase {
	evTime := time.Date(2024, 5, 1, 12, 34, 56, 789e6, time.UTC)
	simple := func(key string) Record {
		return Record{
			Bucket: "b", Key: key, Size: 42, ETag: "0123456789abcdef0123456789abcdef",
			Sequencer: "0A1B2C3D4E5F678901", EventName: "ObjectCreated:Put", EventTime: evTime,
		}
	}
	return []parseBodyCase{
		{name: "put", body: putEvent, want: []Record{putRecord}},
		{
			name: "several records",
			body: records(
				record("ObjectCreated:Put", "b", "logs/1.json"),
				record("ObjectCreated:CompleteMultipartUpload", "b", "logs/2.json"),
				record("ObjectCreated:Copy", "b", "logs/3.json"),
			),
			want: []Record{
				simple("logs/1.json"),
				func() Record {
					r := simple("logs/2.json")
					r.EventName = "ObjectCreated:CompleteMultipartUpload"
					return r
				}(),
				func() Record { r := simple("logs/3.json"); r.EventName = "ObjectCreated:Copy"; return r }(),
			},
		},
		{
			name: "removals skipped",
			body: records(
				record("ObjectRemoved:Delete", "b", "x"),
				record("ObjectCreated:Put", "b", "y"),
				record("ObjectRemoved:DeleteMarkerCreated", "b", "z"),
			),
			want: []Record{simple("y")},
		},
		{
			name: "only removals",
			body: records(record("ObjectRemoved:Delete", "b", "x"), record("ObjectRestore:Completed", "b", "x")),
			want: []Record{},
		},
		{
			// A skipped event is not rejected for fields rin does not read.
			name: "odd removal skipped",
			body: `{"Records":[{"eventName":"ObjectRemoved:Delete","s3":{"object":{"size":"big"}}}]}`,
			want: []Record{},
		},
		{name: "s3: prefixed event name", body: records(record("s3:ObjectCreated:Put", "b", "k")), want: []Record{simple("k")}},
		{name: "key plus is space", body: records(record("ObjectCreated:Put", "b", "a+b.json")), want: []Record{simple("a b.json")}},
		{name: "key utf-8", body: records(record("ObjectCreated:Put", "b", "%E3%81%82.json")), want: []Record{simple("あ.json")}},
		{name: "key quote and semicolon", body: records(record("ObjectCreated:Put", "b", "it%27s%3B+drop.json")), want: []Record{simple("it's; drop.json")}},
		{name: "key encoded plus", body: records(record("ObjectCreated:Put", "b", "a%2Bb")), want: []Record{simple("a+b")}},
		{name: "key slashes and equals", body: records(record("ObjectCreated:Put", "b", "dt%3D2024-05-01%2Fpart-0.gz")), want: []Record{simple("dt=2024-05-01/part-0.gz")}},
		{name: "quoted etag", body: strings.Replace(putEvent, `"d41d8cd98f00b204e9800998ecf8427e"`, `"\"d41d8cd98f00b204e9800998ecf8427e\""`, 1), want: []Record{putRecord}},
		{name: "test event", body: testEvent, err: ErrTestEvent},
		{name: "sns wrapped", body: snsWrap(putEvent), want: []Record{putRecord}},
		{name: "sns wrapped key decoded", body: snsWrap(records(record("ObjectCreated:Put", "b", "a+b.json"))), want: []Record{simple("a b.json")}},
		{name: "sns wrapped test event", body: snsWrap(testEvent), err: ErrTestEvent},
		{name: "sns wrapped removal", body: snsWrap(records(record("ObjectRemoved:Delete", "b", "x"))), want: []Record{}},
		{name: "sns without Type test event", body: bareSNS(testEvent), err: ErrTestEvent},
		{name: "sns without Type", body: bareSNS(putEvent), want: []Record{putRecord}},
		{
			name: "eventbridge",
			body: eventBridgeCreated,
			want: []Record{{
				Bucket: "amzn-s3-demo-bucket1", Key: "logs/a b+c.json", Size: 5,
				ETag: "b1946ac92492d2347c6235b4d2611184", VersionID: "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e",
				Sequencer: "617f08299329d189", EventName: "ObjectCreated:Put",
				EventTime: time.Date(2021, 11, 12, 0, 0, 0, 0, time.UTC),
			}},
		},
		{
			name: "eventbridge multipart",
			body: strings.Replace(eventBridgeCreated, `"PutObject"`, `"CompleteMultipartUpload"`, 1),
			want: []Record{{
				Bucket: "amzn-s3-demo-bucket1", Key: "logs/a b+c.json", Size: 5,
				ETag: "b1946ac92492d2347c6235b4d2611184", VersionID: "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e",
				Sequencer: "617f08299329d189", EventName: "ObjectCreated:CompleteMultipartUpload",
				EventTime: time.Date(2021, 11, 12, 0, 0, 0, 0, time.UTC),
			}},
		},
		{name: "eventbridge deleted skipped", body: strings.Replace(eventBridgeCreated, "Object Created", "Object Deleted", 1), want: []Record{}},
		{name: "missing event time is zero", body: strings.Replace(putEvent, `"eventTime":"1970-01-01T00:00:00.000Z",`, "", 1),
			want: []Record{func() Record { r := putRecord; r.EventTime = time.Time{}; return r }()}},

		// Malformed shapes.
		{name: "empty", body: "", err: ErrMalformed},
		{name: "blank", body: " \n\t", err: ErrMalformed},
		{name: "not json", body: "hello world", err: ErrMalformed},
		{name: "truncated json", body: putEvent[:100], err: ErrMalformed},
		{name: "json array", body: `[1,2]`, err: ErrMalformed},
		{name: "json string", body: `"Records"`, err: ErrMalformed},
		{name: "json null", body: `null`, err: ErrMalformed},
		{name: "other object", body: `{"hello":"world"}`, err: ErrMalformed},
		{name: "records null", body: `{"Records":null}`, err: ErrMalformed},
		{name: "records object", body: `{"Records":{}}`, err: ErrMalformed},
		{name: "records empty", body: `{"Records":[]}`, err: ErrMalformed},
		{name: "records non-object", body: records(record("ObjectCreated:Put", "b", "k"), `42`), err: ErrMalformed},
		{name: "records null element", body: `{"Records":[null]}`, err: ErrMalformed},
		{name: "record without eventName", body: `{"Records":[{"s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}`, err: ErrMalformed},
		{name: "eventName not string", body: `{"Records":[{"eventName":7}]}`, err: ErrMalformed},
		{name: "empty bucket", body: records(record("ObjectCreated:Put", "", "k")), err: ErrMalformed},
		{name: "empty key", body: records(record("ObjectCreated:Put", "b", "")), err: ErrMalformed},
		{name: "bad escape", body: records(record("ObjectCreated:Put", "b", "a%zzb")), err: ErrMalformed},
		{name: "truncated escape", body: records(record("ObjectCreated:Put", "b", "ab%E")), err: ErrMalformed},
		{name: "key not utf-8", body: records(record("ObjectCreated:Put", "b", "%FF%FE.json")), err: ErrMalformed},
		{name: "size not number", body: `{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k","size":"1"}}}]}`, err: ErrMalformed},
		{name: "negative size", body: `{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k","size":-1}}}]}`, err: ErrMalformed},
		{name: "unknown Event", body: `{"Service":"Amazon S3","Event":"s3:Other"}`, err: ErrMalformed},
		{name: "Event not string", body: `{"Event":{}}`, err: ErrMalformed},
		{name: "sns subscription confirmation", body: `{"Type":"SubscriptionConfirmation","Message":"You have chosen to subscribe"}`, err: ErrMalformed},
		{name: "sns message not string", body: `{"Type":"Notification","Message":{"Records":[]}}`, err: ErrMalformed},
		{name: "sns message not json", body: snsWrap("hello"), err: ErrMalformed},
		{name: "sns message empty", body: snsWrap(""), err: ErrMalformed},
		{name: "sns in sns", body: snsWrap(snsWrap(putEvent)), err: ErrMalformed},
		{name: "sns inner malformed", body: snsWrap(records(record("ObjectCreated:Put", "b", "%zz"))), err: ErrMalformed},
		{name: "sns Type null", body: `{"Type":null,"Message":"{\"Event\":\"s3:TestEvent\"}"}`, err: ErrMalformed},
		{name: "sns without Type message not string", body: `{"Message":{"Event":"s3:TestEvent"}}`, err: ErrMalformed},
		{name: "sns without Type message not json", body: bareSNS("hello"), err: ErrMalformed},
		{name: "sns without Type in sns", body: snsWrap(bareSNS(testEvent)), err: ErrMalformed},
		{name: "sns in sns without Type", body: bareSNS(snsWrap(testEvent)), err: ErrMalformed},
		{name: "eventbridge other source", body: strings.Replace(eventBridgeCreated, `"aws.s3"`, `"aws.ec2"`, 1), err: ErrMalformed},
		{name: "eventbridge no detail", body: `{"detail-type":"Object Created","source":"aws.s3"}`, err: ErrMalformed},
		{name: "eventbridge detail not object", body: `{"detail-type":"Object Created","source":"aws.s3","detail":[]}`, err: ErrMalformed},
		{name: "eventbridge empty key", body: strings.Replace(eventBridgeCreated, `"logs/a b+c.json"`, `""`, 1), err: ErrMalformed},
		{name: "eventbridge empty bucket", body: strings.Replace(eventBridgeCreated, `"amzn-s3-demo-bucket1"}`, `""}`, 1), err: ErrMalformed},
	}
}

func TestParseBody(t *testing.T) {
	for _, tt := range parseBodyCases() {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseBody(tt.body)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				if got != nil {
					t.Errorf("records = %+v, want none with an error", got)
				}
				if errors.Is(err, ErrMalformed) && len(tt.body) > 60 && strings.Contains(err.Error(), tt.body) {
					t.Errorf("error quotes the whole body: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if got == nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// A long bad key must be cut in the error message, not quoted whole.
func TestParseBodyErrorExcerpt(t *testing.T) {
	key := strings.Repeat("x", 5000) + "%zz"
	body := records(record("ObjectCreated:Put", "b", key))
	_, err := ParseBody(body)
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v", err)
	}
	if n := len(err.Error()); n > 600 {
		t.Errorf("error is %d bytes long: %.300s", n, err)
	}
	if !strings.Contains(err.Error(), "5003 bytes") {
		t.Errorf("error does not say how long the key was: %v", err)
	}
	// The cut must fall on a rune boundary.
	key = strings.Repeat("あ", 100) + "%zz"
	_, err = ParseBody(records(record("ObjectCreated:Put", "b", key)))
	if !errors.Is(err, ErrMalformed) || strings.Contains(err.Error(), `\x`) {
		t.Errorf("err = %v", err)
	}
}

func TestRecordVersion(t *testing.T) {
	r := Record{VersionID: "v", ETag: "e", Sequencer: "s"}
	if got := r.Version(); got != "v" {
		t.Errorf("Version = %q, want v", got)
	}
	r.VersionID = ""
	if got := r.Version(); got != "e" {
		t.Errorf("Version = %q, want e", got)
	}
	r.ETag = ""
	if got := r.Version(); got != "s" {
		t.Errorf("Version = %q, want s", got)
	}
}

// FuzzParseBody checks that no input panics and that results are coherent:
// an error comes with no records, records always name an object, and errors
// never quote the whole of a long body.
func FuzzParseBody(f *testing.F) {
	for _, s := range []string{
		putEvent, testEvent, eventBridgeCreated, snsWrap(putEvent), snsWrap(testEvent),
		records(record("ObjectCreated:Put", "b", "a+b%2B%E3%81%82"), record("ObjectRemoved:Delete", "b", "x")),
		records(record("ObjectCreated:Put", "b", "%zz")),
		`{"Records":[null]}`, `{"Type":"Notification","Message":"{}"}`, `{"Event":"s3:TestEvent"}`,
		bareSNS(testEvent), bareSNS(putEvent), `{"Message":"{\"Message\":\"{}\"}"}`,
		`{"detail-type":"Object Created","source":"aws.s3","detail":{"bucket":{"name":"b"},"object":{"key":"k"}}}`,
		"", "null", "[]", `"x"`, "{",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		recs, err := ParseBody(body)
		if err != nil {
			if recs != nil {
				t.Fatalf("records %+v with error %v", recs, err)
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTestEvent) {
				t.Fatalf("error of unexpected kind: %v", err)
			}
			if len(body) > 2*maxExcerpt && strings.Contains(err.Error(), body) {
				t.Fatalf("error quotes the whole body")
			}
			return
		}
		if recs == nil {
			t.Fatalf("nil records without an error")
		}
		for _, r := range recs {
			if r.Bucket == "" || r.Key == "" || r.Size < 0 || !strings.HasPrefix(r.EventName, "ObjectCreated:") {
				t.Fatalf("bad record %+v", r)
			}
		}
	})
}

// parseBodySlow is ParseBody without the fast path for body itself (an SNS
// Message inside it still gets one; the fast path is checked on such bodies
// on their own).
func parseBodySlow(body string) ([]Record, error) {
	recs, err := parseSlow(body, false)
	if err != nil && !errors.Is(err, ErrTestEvent) {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return recs, err
}

// diffFastSlow reports whether parseFast took body, and how ParseBody or
// parseFast differ from the slow path on it, if they do.
func diffFastSlow(body string) (fast bool, diff string) {
	recs, ok := parseFast(body)
	slow, slowErr := parseSlow(body, false)
	if ok && (slowErr != nil || !reflect.DeepEqual(recs, slow)) {
		return ok, fmt.Sprintf("parseFast = %+v\nparseSlow = %+v, %v", recs, slow, slowErr)
	}
	got, err := ParseBody(body)
	want, wantErr := parseBodySlow(body)
	if fmt.Sprint(err) != fmt.Sprint(wantErr) ||
		errors.Is(err, ErrMalformed) != errors.Is(wantErr, ErrMalformed) ||
		errors.Is(err, ErrTestEvent) != errors.Is(wantErr, ErrTestEvent) ||
		!reflect.DeepEqual(got, want) {
		return ok, fmt.Sprintf("ParseBody = %+v, %v\nslow path = %+v, %v", got, err, want, wantErr)
	}
	return ok, ""
}

// fastPathCases are bodies aimed at the fast path: the usual shapes it must
// take, and look-alikes where json.Unmarshal's case-insensitive names,
// repeated members or lenient shapes could make it read something the slow
// path does not. fast says whether the fast path is meant to take the body.
func fastPathCases() []struct {
	name, body string
	fast       bool
} {
	const rest = `"eventTime":"2024-05-01T12:34:56.789Z","s3":{"bucket":{"name":"b"},"object":{"key":"k","size":1,"eTag":"\"e\"","sequencer":"01"}}`
	rec := func(members string) string { return "{" + members + "," + rest + "}" }
	put := rec(`"eventName":"ObjectCreated:Put"`)
	del := rec(`"eventName":"ObjectRemoved:Delete"`)
	putKey := func(key string) string { return records(record("ObjectCreated:Put", "b", key)) }
	quoted := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	benchBody := func(n int) string {
		evs := make([]localaws.ObjectEvent, n)
		for i := range evs {
			evs[i] = benchEvent(i)
		}
		return localaws.S3EventBody(evs...)
	}
	return []struct {
		name, body string
		fast       bool
	}{
		{"stack body", benchBody(1), true},
		{"stack body, 10 records", benchBody(10), true},
		{"put", putEvent, true},
		{"white space around", " \n\t" + records(put, put) + "\r\n ", true},
		{"s3: prefix", records(rec(`"eventName":"s3:ObjectCreated:Copy"`)), true},
		{"bare ObjectCreated:", records(rec(`"eventName":"ObjectCreated:"`)), true},
		{"key escapes and plus", putKey("a%2Fb+c%25d%E3%81%82+%2B"), true},
		{"key with JSON punctuation", putKey(`x"}],"Records":[{"eventName":"\`), true},
		{"key invalid UTF-8 in JSON", strings.Replace(records(put), `"key":"k"`, "\"key\":\"k\xff\"", 1), true},
		{"huge key", putKey(strings.Repeat("dir%2Fa+b", 20_000)), true},
		{"huge bad key", putKey(strings.Repeat("dir%2Fa+b", 20_000) + "%zz"), false},
		{"null optional fields", records(`{"eventName":"ObjectCreated:Put","eventTime":null,"s3":{"bucket":{"name":"b"},"object":{"key":"k","size":null,"eTag":null,"versionId":null,"sequencer":null}}}`), true},
		{"fields rin reads in other case", records(`{"eventName":"ObjectCreated:Put","EventTime":"2024-05-01T12:34:56Z","S3":{"BUCKET":{"Name":"b"},"Object":{"KEY":"k","Size":3,"etag":"e"}}}`), true},
		{"repeated s3 members", records(`{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"size":1}},"s3":{"object":{"key":"k"}}}`), true},

		{"lowercase records", `{"records":[` + put + `]}`, false},
		{"Records and records", `{"Records":[` + put + `],"records":[` + rec(`"eventName":"ObjectCreated:Post"`) + `]}`, false},
		{"records and Records", `{"records":[` + rec(`"eventName":"ObjectCreated:Post"`) + `],"Records":[` + put + `]}`, false},
		{"Records with long s", `{"Recordſ":[` + put + `]}`, false},
		{"escaped Records", `{"R\u0065cords":[` + put + `]}`, false},
		{"duplicate Records", `{"Records":[` + put + `,` + put + `],"Records":[` + rec(`"eventName":"ObjectCreated:Copy"`) + `]}`, false},
		{"duplicate Records, would merge", `{"Records":[` + strings.Replace(put, `"key":"k"`, `"key":"k","versionId":"v"`, 1) + `],"Records":[` + put + `]}`, false},
		{"duplicate Records, first null", `{"Records":null,"Records":[` + put + `]}`, false},
		{"duplicate Records, second removals", `{"Records":[` + put + `],"Records":[` + del + `]}`, false},
		{"Records then SNS members", `{"Records":[` + put + `],"Type":"Notification","Message":` + quoted(putKey("other")) + `}`, false},
		{"SNS members then Records", `{"Type":"Notification","Message":` + quoted(putKey("other")) + `,"Records":[` + put + `]}`, false},
		{"Records then Event", `{"Records":[` + put + `],"Event":"s3:TestEvent"}`, false},
		{"Records then detail-type", `{"Records":[` + put + `],"detail-type":"Object Created","source":"aws.s3"}`, false},
		{"EventName only", records(rec(`"EventName":"ObjectCreated:Put"`)), false},
		{"eventName then EventName", records(rec(`"eventName":"ObjectRemoved:Delete","EventName":"ObjectCreated:Put"`)), false},
		{"EventName then eventName", records(rec(`"EventName":"ObjectRemoved:Delete","eventName":"ObjectCreated:Put"`)), false},
		{"eventname after eventName", records(rec(`"eventName":"ObjectCreated:Put","eventname":"ObjectRemoved:Delete"`)), false},
		{"EVENTNAME not a string", records(rec(`"eventName":"ObjectCreated:Put","EVENTNAME":7`)), false},
		{"escaped eventName after eventName", records(rec(`"eventName":"ObjectRemoved:Delete","EVENT\u004eAME":"ObjectCreated:Put"`)), false},
		{"escaped eventName", records(rec(`"event\u004eame":"ObjectCreated:Put"`)), false},
		{"duplicate eventName", records(rec(`"eventName":"ObjectRemoved:Delete","eventName":"ObjectCreated:Put"`)), false},
		{"eventName only nested", records(`{"s3":{"eventName":"ObjectCreated:Put","bucket":{"name":"b"},"object":{"key":"k"}}}`), false},
		{"event name in other case", records(rec(`"eventName":"objectcreated:Put"`)), false},
		{"double s3: prefix", records(rec(`"eventName":"s3:s3:ObjectCreated:Put"`)), false},
		{"eventName null", records(rec(`"eventName":null`)), false},
		{"removal then creation", records(del, put), false},
		{"odd removal then creation", records(`{"eventName":"ObjectRemoved:Delete","s3":{"object":{"size":"big"}}}`, put), false},
		{"size as string", records(strings.Replace(put, `"size":1`, `"size":"1"`, 1)), false},
		{"size fraction", records(strings.Replace(put, `"size":1`, `"size":1.5`, 1)), false},
		{"size exponent", records(strings.Replace(put, `"size":1`, `"size":1e3`, 1)), false},
		{"size overflow", records(strings.Replace(put, `"size":1`, `"size":99999999999999999999`, 1)), false},
		{"negative size", records(strings.Replace(put, `"size":1`, `"size":-1`, 1)), false},
		{"null key", records(strings.Replace(put, `"key":"k"`, `"key":null`, 1)), false},
		{"null s3", records(`{"eventName":"ObjectCreated:Put","s3":null}`), false},
		{"null record", `{"Records":[` + put + `,null]}`, false},
		{"record not an object", `{"Records":[` + put + `,["eventName"]]}`, false},
		{"Records of strings", `{"Records":["eventName"]}`, false},
		{"trailing garbage", records(put) + "x", false},
		{"two bodies", records(put) + records(put), false},
		{"unterminated", `{"Records":[{"eventName":"ObjectCreated:Put`, false},
	}
}

// TestParseFastMatchesSlow runs every parse test body, and bodies aimed at
// the fast path, bare and in an SNS envelope, through ParseBody and through
// the slow path alone: records and errors must be the same.
func TestParseFastMatchesSlow(t *testing.T) {
	check := func(name, body string) bool {
		t.Helper()
		for _, b := range []string{body, snsWrap(body)} {
			if _, diff := diffFastSlow(b); diff != "" {
				t.Errorf("%s: %s", name, diff)
			}
		}
		fast, _ := diffFastSlow(body)
		return fast
	}
	for _, tt := range parseBodyCases() {
		check(tt.name, tt.body)
	}
	for _, tt := range fastPathCases() {
		if fast := check(tt.name, tt.body); fast != tt.fast {
			t.Errorf("%s: fast path taken = %v, want %v", tt.name, fast, tt.fast)
		}
	}
}

// FuzzParseFast checks that the fast path never takes a body unless the
// slow path gives the same records for it.
func FuzzParseFast(f *testing.F) {
	for _, tt := range parseBodyCases() {
		f.Add(tt.body)
	}
	for _, tt := range fastPathCases() {
		if len(tt.body) < 4096 {
			f.Add(tt.body)
		}
	}
	f.Fuzz(func(t *testing.T, body string) {
		if _, diff := diffFastSlow(body); diff != "" {
			t.Fatal(diff)
		}
	})
}
