package journal

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fullJob sets every field, so a field the codec forgets shows up.
func fullJob() Job {
	at := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			panic(err)
		}
		return t.UTC()
	}
	return Job{
		ID: "0123456789abcdef0123456789abcdef", State: Failed,
		Target: "targets[3]", Endpoint: "postgres://rin@example.com:5439/dev", Schema: "s\"chema", Table: "t;able",
		SQLOption: "JSON 'auto' GZIP", Region: "eu-west-1", Manifest: true, MaxFiles: 250,
		Bucket: "bkt", Key: "logs/ü/a'b\\c/🙂.json", Version: "v-1", Size: 1 << 40,
		EventTime: at("2026-11-25T10:00:00.123456789Z"),
		Attempts:  7, PermanentErrors: 3, LastError: "ERROR: bad\nline", NextAttempt: at("2026-11-25T10:05:00Z"),
		Rows: -1, BatchID: "b-42", SkippedRows: 12,
		ETag: "9b2cf535f27731c974343645a3985328", Sequencer: "0055AED6DCD90281E5", Note: "newer version seen",
		Created: at("2026-11-25T09:59:59Z"), Updated: at("2026-11-25T10:00:01Z"), CopiedAt: at("2026-11-25T10:00:02.5Z"),
	}
}

// Records of formats 2 (before SkippedRows) and 3 (before ETag, Sequencer
// and Note) still read.
func TestCodecReadsOlderFormats(t *testing.T) {
	job := fullJob()
	v := encodeJob(job)
	tail := 3 + len(job.ETag) + len(job.Sequencer) + len(job.Note) // three one-byte lengths
	v3 := append([]byte{3}, v[1:len(v)-tail]...)
	v2 := append([]byte{2}, v3[1:len(v3)-1]...) // SkippedRows (12) is one varint byte
	for _, c := range []struct {
		format byte
		rec    []byte
		want   func(*Job)
	}{
		{3, v3, func(j *Job) { j.ETag, j.Sequencer, j.Note = "", "", "" }},
		{2, v2, func(j *Job) { j.ETag, j.Sequencer, j.Note, j.SkippedRows = "", "", "", 0 }},
	} {
		got, err := decodeJob(c.rec)
		if err != nil {
			t.Fatalf("format %d: %v", c.format, err)
		}
		want := job
		c.want(&want)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("format %d record decoded as %+v", c.format, got)
		}
		if s, err := storedState(c.rec); err != nil || s != job.State {
			t.Fatalf("storedState of a format %d record: %v %v", c.format, s, err)
		}
	}
}

func TestCodecRoundTrip(t *testing.T) {
	full := fullJob()
	// Every field of Job must be set in fullJob, or this test proves less
	// than it claims.
	v := reflect.ValueOf(full)
	for i := 0; i < v.NumField(); i++ {
		if v.Field(i).IsZero() {
			t.Fatalf("fullJob leaves %s unset", v.Type().Field(i).Name)
		}
	}
	for _, job := range []Job{full, {ID: "x", State: Received}} {
		got, err := decodeJob(encodeJob(job))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, job) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, job)
		}
		if s, err := storedState(encodeJob(job)); err != nil || s != job.State {
			t.Errorf("storedState = %q, %v; want %q", s, err, job.State)
		}
	}
}

func TestCodecIsCompact(t *testing.T) {
	job := benchJob(1)
	job.Created, job.Updated = time.Now(), time.Now()
	js, _ := json.Marshal(job)
	bin := encodeJob(job)
	if len(bin)*2 > len(js) {
		t.Errorf("binary record %d bytes, JSON %d: expected less than half", len(bin), len(js))
	}
}

// Every truncation and every flipped byte of a record decodes to an error
// or to some job, never to a panic; truncations are always errors.
func TestCodecDamagedRecords(t *testing.T) {
	v := encodeJob(fullJob())
	for n := 0; n < len(v); n++ {
		if _, err := decodeJob(v[:n]); err == nil {
			t.Fatalf("record cut to %d of %d bytes decoded without error", n, len(v))
		}
	}
	for i := range v {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			w := append([]byte(nil), v...)
			w[i] ^= x
			decodeJob(w)
		}
	}
	if _, err := decodeJob(append(v, 0)); err == nil {
		t.Error("trailing byte accepted")
	}
	w := append([]byte(nil), v...)
	w[0] = 9
	if _, err := decodeJob(w); err == nil || !strings.Contains(err.Error(), "format 9") {
		t.Errorf("unknown format: %v", err)
	}
	w[0], w[1] = codecVersion, 0
	if _, err := storedState(w); err == nil {
		t.Error("state code 0 accepted")
	}
}

func FuzzDecodeJob(f *testing.F) {
	f.Add(encodeJob(fullJob()))
	f.Add(encodeJob(Job{ID: "a", State: Acked}))
	f.Fuzz(func(t *testing.T, v []byte) {
		job, err := decodeJob(v)
		if err != nil {
			return
		}
		// Whatever decodes survives a round trip unchanged.
		again, err := decodeJob(encodeJob(job))
		if err != nil || !reflect.DeepEqual(again, job) {
			t.Fatalf("round trip of a decoded record: %+v, %v; want %+v", again, err, job)
		}
	})
}
