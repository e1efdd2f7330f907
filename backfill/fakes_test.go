package backfill

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/rinhq/rin/admin"
	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/journal"
	"github.com/rinhq/rin/redshift"
)

const testConfig = `
queue_name: q
redshift: {host: localhost, port: 5439, dbname: db, user: u, password: p, schema: s}
s3: {bucket: b, region: us-east-1}
targets:
  - s3: {key_prefix: skip/}
    discard: true
  - redshift: {table: t}
    s3: {key_prefix: in/}
`

func testRouter(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(testConfig), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// version is one stored version of a key in fakeS3.
type version struct {
	key, id, etag string
	modified      time.Time
	deleteMarker  bool
}

// fakeS3 lists like S3: keys in order, pages of MaxKeys, quoted ETags.
type fakeS3 struct {
	versioned bool
	versions  []version // in key order, newest first within a key
	calls     int
}

func (f *fakeS3) put(key, etag string, modified time.Time) {
	id := ""
	if f.versioned {
		id = fmt.Sprintf("v%d", len(f.versions)+1)
	}
	f.versions = append([]version{{key: key, id: id, etag: etag, modified: modified}}, f.versions...)
	sort.SliceStable(f.versions, func(i, j int) bool { return f.versions[i].key < f.versions[j].key })
}

func (f *fakeS3) latest(prefix string) []version {
	var out []version
	seen := map[string]bool{}
	for _, v := range f.versions {
		if strings.HasPrefix(v.key, prefix) && !seen[v.key] {
			seen[v.key] = true
			if !v.deleteMarker {
				out = append(out, v)
			}
		}
	}
	return out
}

func (f *fakeS3) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	f.calls++
	all := f.latest(aws.ToString(in.Prefix))
	start, _ := strconv.Atoi(aws.ToString(in.ContinuationToken))
	end := min(start+int(aws.ToInt32(in.MaxKeys)), len(all))
	out := &s3.ListObjectsV2Output{IsTruncated: aws.Bool(end < len(all))}
	if end < len(all) {
		out.NextContinuationToken = aws.String(strconv.Itoa(end))
	}
	for _, v := range all[start:end] {
		out.Contents = append(out.Contents, types.Object{Key: aws.String(v.key), ETag: aws.String(`"` + v.etag + `"`), Size: aws.Int64(10), LastModified: aws.Time(v.modified)})
	}
	return out, nil
}

func (f *fakeS3) ListObjectVersions(_ context.Context, in *s3.ListObjectVersionsInput, _ ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error) {
	f.calls++
	var all []version
	for _, v := range f.versions {
		if strings.HasPrefix(v.key, aws.ToString(in.Prefix)) {
			all = append(all, v)
		}
	}
	start := 0
	if in.KeyMarker != nil {
		for i, v := range all {
			if v.key == aws.ToString(in.KeyMarker) && v.id == aws.ToString(in.VersionIdMarker) {
				start = i + 1
			}
		}
	}
	end := min(start+int(aws.ToInt32(in.MaxKeys)), len(all))
	out := &s3.ListObjectVersionsOutput{IsTruncated: aws.Bool(end < len(all))}
	if end < len(all) {
		out.NextKeyMarker, out.NextVersionIdMarker = aws.String(all[end-1].key), aws.String(all[end-1].id)
	}
	for i, v := range all[start:end] {
		latest := start+i == 0 || all[start+i-1].key != v.key
		if v.deleteMarker {
			out.DeleteMarkers = append(out.DeleteMarkers, types.DeleteMarkerEntry{Key: aws.String(v.key), VersionId: aws.String(v.id), IsLatest: aws.Bool(latest)})
			continue
		}
		out.Versions = append(out.Versions, types.ObjectVersion{Key: aws.String(v.key), VersionId: aws.String(v.id), ETag: aws.String(`"` + v.etag + `"`),
			Size: aws.Int64(10), IsLatest: aws.Bool(latest), LastModified: aws.Time(v.modified)})
	}
	return out, nil
}

func (f *fakeS3) GetBucketVersioning(context.Context, *s3.GetBucketVersioningInput, ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error) {
	out := &s3.GetBucketVersioningOutput{}
	if f.versioned {
		out.Status = types.BucketVersioningStatusEnabled
	}
	return out, nil
}

// fakeSink is rin: jobs it is given load at the next lookup, unless they
// are set to stay in some state.
type fakeSink struct {
	mu        sync.Mutex
	jobs      map[string]admin.JobStatus
	stay      map[string]bool // not loaded by lookups
	submitted [][]journal.Job
	maxOut    int // most jobs submitted and not yet loaded, at a Submit
}

func newFakeSink() *fakeSink {
	return &fakeSink{jobs: map[string]admin.JobStatus{}, stay: map[string]bool{}}
}

func (s *fakeSink) set(j journal.Job, st journal.State, held string, stay bool) {
	s.jobs[j.ID] = admin.JobStatus{ID: j.ID, State: st, Target: j.Target, URI: j.URI(), Held: held, LastError: "boom"}
	s.stay[j.ID] = stay
}

func (s *fakeSink) Submit(_ context.Context, jobs []journal.Job) (admin.SubmitResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var res admin.SubmitResult
	for _, j := range jobs {
		if _, ok := s.jobs[j.ID]; ok {
			res.Known++
			continue
		}
		res.Admitted++
		s.jobs[j.ID] = admin.JobStatus{ID: j.ID, State: journal.Received, Target: j.Target, URI: j.URI()}
	}
	s.submitted = append(s.submitted, jobs)
	out := 0
	for _, st := range s.jobs {
		if st.State == journal.Received && !s.stay[st.ID] {
			out++
		}
	}
	s.maxOut = max(s.maxOut, out)
	return res, nil
}

func (s *fakeSink) Lookup(_ context.Context, ids []string) ([]admin.JobStatus, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []admin.JobStatus
	for _, id := range ids {
		st, ok := s.jobs[id]
		if !ok {
			continue
		}
		out = append(out, st)
		if st.State == journal.Received && !s.stay[id] {
			st.State = journal.Acked // loaded by the next look
			s.jobs[id] = st
		}
	}
	return out, nil
}

// fakeLedger holds loaded job ids and rows.
type fakeLedger struct {
	ids  map[string]bool
	rows []redshift.LedgerRow
}

func (l *fakeLedger) LoadedJobs(_ context.Context, jobs []journal.Job) (map[string]bool, error) {
	out := map[string]bool{}
	for _, j := range jobs {
		if l.ids[j.ID] {
			out[j.ID] = true
		}
	}
	return out, nil
}

func (l *fakeLedger) Rows(_ context.Context, prefix string, fn func(redshift.LedgerRow) error) error {
	for _, r := range l.rows {
		if strings.HasPrefix(r.URI, prefix) {
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// jobOf is the job testConfig makes of an object in bucket b, whose
// version is its eTag (an unversioned bucket).
func jobOf(t *testing.T, key, etag string) journal.Job {
	t.Helper()
	p := plan(testRouter(t), []Object{{Bucket: "b", Key: key, ETag: etag}})
	if len(p[0].jobs) != 1 {
		t.Fatalf("%s routes to %d jobs", key, len(p[0].jobs))
	}
	return p[0].jobs[0]
}
