package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Jobs are stored in a compact binary form rather than JSON. A job is
// rewritten on every transition, and its size decides how many B-tree pages
// each commit rewrites: JSON with field names took about 600 bytes a job,
// this about a third of that, and encodes several times faster. People read
// jobs through rin-journal, which prints JSON.
//
// Format: one byte codecVersion, one byte state code (at a fixed offset, so
// a transition can read the old state without decoding the job), then the
// fields in the order of encodeJob, strings as uvarint length + bytes,
// integers as varints, times as varint Unix nanoseconds (0 for the zero
// time), the bool as one byte. A newer format gets a new codecVersion.
// Format 3 appends SkippedRows, format 4 ETag, Sequencer and Note; records
// of formats 2 and 3 (written before) are still read.

const codecVersion = 4

// readable reports whether this build reads records of format v.
func readable(v byte) bool { return v >= 2 && v <= codecVersion }

// stateCode numbers the states for the stored form; 0 is never used.
func stateCode(s State) byte {
	switch s {
	case Received:
		return 1
	case Copying:
		return 2
	case Copied:
		return 3
	case Acked:
		return 4
	case Failed:
		return 5
	case Superseded:
		return 6
	case Removed:
		return 7
	}
	return 0
}

func stateOf(code byte) (State, bool) {
	switch code {
	case 1:
		return Received, true
	case 2:
		return Copying, true
	case 3:
		return Copied, true
	case 4:
		return Acked, true
	case 5:
		return Failed, true
	case 6:
		return Superseded, true
	case 7:
		return Removed, true
	}
	return "", false
}

// errTruncated is what a short or damaged value decodes to; callers wrap it
// with ErrCorrupt and the job's key.
var errTruncated = errors.New("truncated or damaged job record")

// encodeJob returns job's stored form.
func encodeJob(job Job) []byte {
	b := make([]byte, 0, 128+len(job.ID)+len(job.Target)+len(job.Endpoint)+len(job.Schema)+len(job.Table)+
		len(job.SQLOption)+len(job.Region)+len(job.Bucket)+len(job.Key)+len(job.Version)+len(job.LastError)+len(job.BatchID)+
		len(job.ETag)+len(job.Sequencer)+len(job.Note))
	b = append(b, codecVersion, stateCode(job.State))
	for _, s := range []string{job.ID, job.Target, job.Endpoint, job.Schema, job.Table, job.SQLOption, job.Region} {
		b = appendString(b, s)
	}
	if job.Manifest {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.AppendVarint(b, int64(job.MaxFiles))
	for _, s := range []string{job.Bucket, job.Key, job.Version} {
		b = appendString(b, s)
	}
	b = binary.AppendVarint(b, job.Size)
	b = appendTime(b, job.EventTime)
	b = binary.AppendVarint(b, int64(job.Attempts))
	b = binary.AppendVarint(b, int64(job.PermanentErrors))
	b = appendString(b, job.LastError)
	b = appendTime(b, job.NextAttempt)
	b = binary.AppendVarint(b, job.Rows)
	b = appendString(b, job.BatchID)
	for _, t := range []time.Time{job.Created, job.Updated, job.CopiedAt} {
		b = appendTime(b, t)
	}
	b = binary.AppendVarint(b, job.SkippedRows)
	for _, s := range []string{job.ETag, job.Sequencer, job.Note} {
		b = appendString(b, s)
	}
	return b
}

// decodeJob reads a stored job. It never panics on damaged input.
func decodeJob(v []byte) (Job, error) {
	var job Job
	if len(v) < 2 {
		return job, errTruncated
	}
	if !readable(v[0]) {
		return job, fmt.Errorf("unknown record format %d", v[0])
	}
	state, ok := stateOf(v[1])
	if !ok {
		return job, fmt.Errorf("unknown state code %d", v[1])
	}
	job.State = state
	d := decoder{b: v[2:]}
	for _, p := range []*string{&job.ID, &job.Target, &job.Endpoint, &job.Schema, &job.Table, &job.SQLOption, &job.Region} {
		*p = d.string()
	}
	job.Manifest = d.byte() == 1
	job.MaxFiles = int(d.varint())
	for _, p := range []*string{&job.Bucket, &job.Key, &job.Version} {
		*p = d.string()
	}
	job.Size = d.varint()
	job.EventTime = d.time()
	job.Attempts = int(d.varint())
	job.PermanentErrors = int(d.varint())
	job.LastError = d.string()
	job.NextAttempt = d.time()
	job.Rows = d.varint()
	job.BatchID = d.string()
	for _, p := range []*time.Time{&job.Created, &job.Updated, &job.CopiedAt} {
		*p = d.time()
	}
	if v[0] >= 3 {
		job.SkippedRows = d.varint()
	}
	if v[0] >= 4 {
		for _, p := range []*string{&job.ETag, &job.Sequencer, &job.Note} {
			*p = d.string()
		}
	}
	if d.err != nil {
		return Job{}, d.err
	}
	if len(d.b) != 0 {
		return Job{}, fmt.Errorf("%d unexpected bytes after the job record", len(d.b))
	}
	return job, nil
}

// storedState reads the state of a stored job without decoding the rest:
// every transition needs it to move the job's index entry.
func storedState(v []byte) (State, error) {
	if len(v) < 2 || !readable(v[0]) {
		return "", errTruncated
	}
	s, ok := stateOf(v[1])
	if !ok {
		return "", fmt.Errorf("unknown state code %d", v[1])
	}
	return s, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendTime stores t to the nanosecond. The zero time is 0; so is the
// Unix epoch itself, which no job carries.
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return binary.AppendVarint(b, 0)
	}
	return binary.AppendVarint(b, t.UnixNano())
}

// decoder reads fields in order; the first error sticks and later reads
// return zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errTruncated
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n, k := binary.Uvarint(d.b)
	if k <= 0 || n > uint64(len(d.b)-k) {
		d.fail()
		return ""
	}
	s := string(d.b[k : k+int(n)])
	d.b = d.b[k+int(n):]
	return s
}

func (d *decoder) time() time.Time {
	ns := d.varint()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}
