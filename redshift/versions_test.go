package redshift

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/journal"
)

// versionStore is an in-memory bucket that counts HEADs and listings.
type versionStore struct {
	mu           sync.Mutex
	objects      map[string]string // key → eTag
	versions     map[string]string // key → current versionId
	heads, lists int
	denyList     bool
	pageSize     int
	ObjectStore  // PutObject, DeleteObject: not used
}

func (s *versionStore) HeadObject(ctx context.Context, in *s3.HeadObjectInput, _ ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.heads++
	etag, ok := s.objects[aws.ToString(in.Key)]
	if !ok {
		return nil, &types.NotFound{}
	}
	return &s3.HeadObjectOutput{ETag: aws.String(`"` + etag + `"`), VersionId: aws.String(s.versions[aws.ToString(in.Key)]), ContentLength: aws.Int64(10)}, nil
}

func (s *versionStore) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lists++
	if s.denyList {
		return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}
	}
	var keys []string
	for k := range s.objects {
		if len(k) >= len(aws.ToString(in.Prefix)) && k[:len(aws.ToString(in.Prefix))] == aws.ToString(in.Prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	after := aws.ToString(in.StartAfter)
	if in.ContinuationToken != nil {
		after = aws.ToString(in.ContinuationToken)
	}
	out := &s3.ListObjectsV2Output{}
	for _, k := range keys {
		if k <= after {
			continue
		}
		if len(out.Contents) == s.pageSize {
			out.IsTruncated, out.NextContinuationToken = aws.Bool(true), out.Contents[len(out.Contents)-1].Key
			break
		}
		out.Contents = append(out.Contents, types.Object{Key: aws.String(k), ETag: aws.String(`"` + s.objects[k] + `"`), Size: aws.Int64(10)})
	}
	return out, nil
}

// copyRecorder is the Copier behind Versions: it records what reaches it.
type copyRecorder struct {
	batches [][]string
	jobs    map[string]journal.Job // by id, as they reached the COPY
	skip    map[string]bool        // ids the "ledger" holds
}

func (c *copyRecorder) Copy(ctx context.Context, b fsm.Batch) (fsm.Result, error) {
	var keys []string
	if c.jobs == nil {
		c.jobs = map[string]journal.Job{}
	}
	res := fsm.Result{Skipped: map[string]bool{}}
	for _, j := range b.Jobs {
		keys = append(keys, j.Key)
		c.jobs[j.ID] = j
		if c.skip[j.ID] {
			res.Skipped[j.ID] = true
		}
	}
	c.batches = append(c.batches, keys)
	return res, nil
}

func versionJobs(n int, store *versionStore) []journal.Job {
	store.objects, store.versions = map[string]string{}, map[string]string{}
	var jobs []journal.Job
	for i := range n {
		key := fmt.Sprintf("logs/2026/12/06/%05d.json", i)
		store.objects[key] = fmt.Sprintf("etag-%d", i)
		jobs = append(jobs, journal.Job{ID: fmt.Sprint("j", i), Bucket: "b", Key: key, ETag: fmt.Sprintf("etag-%d", i), Version: fmt.Sprintf("etag-%d", i), Sequencer: fmt.Sprintf("%04X", i)})
	}
	return jobs
}

// A batch's objects are judged from one listing of their key range, not a
// HEAD each: the rewritten one loads as the version the key now holds
// (under that version's id, with a note), the deleted one is removed, two
// events of one key leave the newer, and the rest reach the COPY as they
// are.
func TestVersionsJudgeFromListing(t *testing.T) {
	store := &versionStore{pageSize: 1000}
	jobs := versionJobs(500, store)
	store.objects[jobs[7].Key] = "etag-rewritten"
	delete(store.objects, jobs[9].Key)
	older := jobs[3]
	older.ID, older.Sequencer, older.ETag, older.Version = "j3-old", "0001", "etag-old", "etag-old"
	jobs = append(jobs, older)
	next := &copyRecorder{}
	v := NewVersions(next, store, config.OverwritesLoad, nil)
	res, err := v.Copy(context.Background(), fsm.Batch{Jobs: jobs})
	if err != nil {
		t.Fatal(err)
	}
	if store.heads != 0 || store.lists != 1 {
		t.Errorf("%d HEADs and %d listings for 500 objects in one key range; want 0 and 1", store.heads, store.lists)
	}
	if len(res.Superseded) != 1 || res.Superseded["j3-old"] == "" {
		t.Errorf("superseded %v; want j3-old (an older event of j3's key)", res.Superseded)
	}
	as := journal.JobID("", "", "", "b", jobs[7].Key, "etag-rewritten")
	if got, ok := next.jobs[as]; !ok || got.Version != "etag-rewritten" || got.ETag != "etag-rewritten" {
		t.Errorf("the rewritten object reached the COPY as %+v; want it under job %s, version etag-rewritten", got, as)
	}
	if _, ok := next.jobs["j7"]; ok || !strings.Contains(res.Notes["j7"], as) {
		t.Errorf("j7: COPYed under its own id %v, note %q; want it loaded as %s and said so", ok, res.Notes["j7"], as)
	}
	if len(res.Removed) != 1 || res.Removed["j9"] == "" {
		t.Errorf("removed %v; want j9", res.Removed)
	}
	if len(next.batches) != 1 || len(next.batches[0]) != 499 {
		t.Fatalf("COPY got %d batches, first of %d; want one of 499 (501 less the older event and the deleted object)", len(next.batches), len(next.batches[0]))
	}
	// Loaded already under that version's id (its own event came first):
	// the ledger's skip reaches the job that asked.
	next.skip = map[string]bool{as: true}
	if res, err = v.Copy(context.Background(), fsm.Batch{Jobs: jobs}); err != nil || !res.Skipped["j7"] {
		t.Errorf("skipped %v (err %v); want j7 skipped, its bytes loaded as %s before", res.Skipped, err, as)
	}
}

// A dense range is listed page after page; a sparse range's first page
// finds too few to go on, a bucket rin may not list is asked once, and
// versioned objects are HEADed: those fall back to HEADs.
func TestVersionsFallBackToHead(t *testing.T) {
	for _, c := range []struct {
		name             string
		page             int
		deny             bool
		versioned        bool
		wantHeads, lists int
	}{
		{"dense range, many pages", 10, false, false, 0, 5},
		{"sparse range", 1000, false, false, 50 - 33, 1}, // the first page holds 33 of the 50 among 1,000
		{"list denied", 1000, true, false, 50, 1},
		{"versioned", 1000, false, true, 50, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			store := &versionStore{pageSize: c.page, denyList: c.deny}
			jobs := versionJobs(50, store)
			if c.name == "sparse range" { // 30 other objects after each one wanted
				for _, j := range jobs {
					for k := range 30 {
						store.objects[fmt.Sprintf("%s-other%02d", j.Key, k)] = "x"
					}
				}
			}
			if c.versioned {
				for i := range jobs {
					jobs[i].Version = fmt.Sprint("v", i)
					store.versions[jobs[i].Key] = jobs[i].Version
				}
				store.versions[jobs[4].Key] = "v-newer"
			}
			v := NewVersions(&copyRecorder{}, store, config.OverwritesLoad, nil)
			res, err := v.Copy(context.Background(), fsm.Batch{Jobs: jobs})
			if err != nil {
				t.Fatal(err)
			}
			if store.heads != c.wantHeads || store.lists != c.lists {
				t.Errorf("%d HEADs, %d listings; want %d, %d", store.heads, store.lists, c.wantHeads, c.lists)
			}
			if c.versioned && !strings.Contains(res.Notes["j4"], "v-newer") {
				t.Errorf("versioned: notes %v; want j4 loaded as v-newer (the key holds a newer version)", res.Notes)
			}
			if c.deny {
				store.heads, store.lists = 0, 0
				if _, err := v.Copy(context.Background(), fsm.Batch{Jobs: jobs}); err != nil || store.lists != 0 {
					t.Errorf("second batch after a denied listing: %d listings, err %v; want none", store.lists, err)
				}
			}
		})
	}
}

// overwrites: unchecked and skip make no S3 request; two events of one key
// in a batch still leave one, the newer.
func TestVersionsUncheckedAsksNothing(t *testing.T) {
	for _, mode := range []string{config.OverwritesUnchecked, config.OverwritesSkip} {
		store := &versionStore{pageSize: 1000}
		jobs := versionJobs(20, store)
		newer := jobs[0]
		newer.ID, newer.Sequencer = "j0-new", "FFFF"
		jobs = append(jobs, newer)
		next := &copyRecorder{}
		res, err := NewVersions(next, store, mode, nil).Copy(context.Background(), fsm.Batch{Jobs: jobs})
		if err != nil {
			t.Fatal(err)
		}
		if store.heads+store.lists != 0 {
			t.Errorf("%s: %d S3 requests, want none", mode, store.heads+store.lists)
		}
		if len(res.Superseded) != 1 || res.Superseded["j0"] == "" || len(next.batches[0]) != 20 {
			t.Errorf("%s: superseded %v, COPY of %d; want j0 superseded by j0-new, 20 loaded", mode, res.Superseded, len(next.batches[0]))
		}
	}
}

// Keys are anyone's UTF-8: the listing's Prefix and StartAfter stay on
// character boundaries, so S3 is never sent a broken string.
func TestListRangeRuneBoundaries(t *testing.T) {
	if got := commonPrefix("logs/ü/a", "logs/ö/b"); got != "logs/" { // ü and ö share their first byte
		t.Errorf("commonPrefix = %q, want logs/", got)
	}
	if got := withoutLastRune("logs/🙂"); got != "logs/" {
		t.Errorf("withoutLastRune = %q, want logs/", got)
	}
	store := &versionStore{pageSize: 1000}
	jobs := versionJobs(20, store)
	for i := range jobs {
		k := fmt.Sprintf("logs/ü/%02d-🙂", i)
		delete(store.objects, jobs[i].Key)
		jobs[i].Key = k
		store.objects[k] = jobs[i].ETag
	}
	res, err := NewVersions(&copyRecorder{}, store, config.OverwritesLoad, nil).Copy(context.Background(), fsm.Batch{Jobs: jobs})
	if err != nil || len(res.Superseded)+len(res.Removed) != 0 || store.lists != 1 || store.heads != 0 {
		t.Errorf("err %v, superseded %v, removed %v, %d listings, %d HEADs; want all loaded from one listing", err, res.Superseded, res.Removed, store.lists, store.heads)
	}
}
