package redshift

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/journal"
)

// A HEAD per object costs rin about as much CPU as the rest of the
// object's journey through it; a listing of a batch's key range tells the
// same eTags for up to 1,000 objects per request. Log keys are written in
// order (a date, an hour, a sequence), so a batch's keys are mostly one
// short range. Where the range holds many other objects too, or rin may
// not list the bucket (s3:ListBucket), the objects left unjudged get their
// HEAD as before.

// objectLister is the listing a store may offer (the S3 client does).
type objectLister interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

// errNoList: the store cannot list.
var errNoList = errors.New("this S3 client cannot list")

// minListed is the fewest objects of one bucket in a batch worth a listing
// rather than a HEAD each.
const minListed = 8

// listDenied remembers buckets rin may not list, so that it asks once.
type listDenied struct{ m sync.Map }

func (d *listDenied) denied(bucket string) bool {
	if d == nil {
		return false
	}
	_, ok := d.m.Load(bucket)
	return ok
}

func (d *listDenied) deny(bucket string) {
	if d != nil {
		d.m.Store(bucket, true)
	}
}

// NewVersions returns the Versions check in front of next (see Versions),
// remembering the buckets it may not list.
func NewVersions(next fsm.Copier, store ObjectStore, mode string, ledger func(string) (*LedgerReader, error)) Versions {
	return Versions{Next: next, Store: store, Mode: mode, Ledger: ledger, denied: &listDenied{}}
}

// listed judges the objects of unversioned jobs from listings of each
// bucket's key range, into out; jobs it cannot judge are left for a HEAD.
func (v Versions) listed(ctx context.Context, jobs []journal.Job, out []verdict) error {
	l, ok := v.Store.(objectLister)
	if !ok {
		return nil
	}
	byBucket := map[string][]int{}
	for i, j := range jobs {
		if j.ETag == "" || hasVersionID(j) {
			continue
		}
		byBucket[j.Bucket] = append(byBucket[j.Bucket], i)
	}
	for bucket, idx := range byBucket {
		if len(idx) < minListed || v.denied.denied(bucket) {
			continue
		}
		sort.Slice(idx, func(a, b int) bool { return jobs[idx[a]].Key < jobs[idx[b]].Key })
		lo, hi := jobs[idx[0]].Key, jobs[idx[len(idx)-1]].Key
		want := make(map[string]bool, len(idx))
		for _, i := range idx {
			want[jobs[i].Key] = true
		}
		found, complete, err := listRange(ctx, l, bucket, lo, hi, want)
		switch {
		case errors.Is(err, errNoList):
			return nil
		case accessDenied(err):
			v.denied.deny(bucket)
			continue // HEADs instead (s3:GetObject is enough for them)
		case ctx.Err() != nil:
			return context.Cause(ctx)
		case err != nil:
			// The listing is an optimisation: whatever refused it, the HEADs
			// judge these objects, and their errors are scoped as S3 reports them.
			continue
		}
		for _, i := range idx {
			o, ok := found[jobs[i].Key]
			switch {
			case ok:
				out[i] = judge(jobs[i], o.etag, "", o.size, o.modified)
			case complete:
				out[i] = verdict{state: journal.Removed, note: "the object was deleted before its COPY (not listed)"}
			}
		}
	}
	return nil
}

// listedObject is what a listing says of one key.
type listedObject struct {
	etag     string
	size     int64
	modified *time.Time
}

// listRange lists the keys from lo to hi (inclusive) of bucket; complete
// says the whole range was seen. It stops early, leaving the rest to
// HEADs, when a page holds few of the keys it wants (a page costs rin
// about as much as listMinHits HEADs, mostly the SDK's XML decoding).
func listRange(ctx context.Context, l objectLister, bucket, lo, hi string, want map[string]bool) (map[string]listedObject, bool, error) {
	found := map[string]listedObject{}
	in := &s3.ListObjectsV2Input{
		Bucket: aws.String(bucket), Prefix: aws.String(commonPrefix(lo, hi)),
		StartAfter: aws.String(withoutLastRune(lo)), // just before lo: every key from lo on
	}
	for {
		res, err := l.ListObjectsV2(ctx, in)
		if err != nil {
			return nil, false, err
		}
		hits := 0
		for _, o := range res.Contents {
			k := aws.ToString(o.Key)
			if k > hi {
				return found, true, nil
			}
			if want[k] {
				hits++
				found[k] = listedObject{etag: strings.Trim(aws.ToString(o.ETag), `"`), size: aws.ToInt64(o.Size), modified: o.LastModified}
			}
			if k == hi {
				return found, true, nil
			}
		}
		if !aws.ToBool(res.IsTruncated) {
			return found, true, nil
		}
		if hits < listMinHits && hits*10 < len(res.Contents) {
			return found, false, nil // a sparse range: HEADs are cheaper
		}
		in.StartAfter, in.ContinuationToken = nil, res.NextContinuationToken
	}
}

// listMinHits: a listing page is worth it while it finds at least this
// many of the keys wanted, or a tenth of its entries.
const listMinHits = 100

// commonPrefix is the longest common prefix of a and b that ends on a
// character boundary: S3 keys are UTF-8, and so must a Prefix be.
func commonPrefix(a, b string) string {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	for n > 0 && n < len(a) && !utf8.RuneStart(a[n]) {
		n--
	}
	return a[:n]
}

// withoutLastRune is s less its last character: a key that sorts just
// before s, valid UTF-8 when s is.
func withoutLastRune(s string) string {
	_, size := utf8.DecodeLastRuneInString(s)
	return s[:len(s)-size]
}

func accessDenied(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && (ae.ErrorCode() == "AccessDenied" || ae.ErrorCode() == "AllAccessDisabled")
}

// hasVersionID reports whether the job's version is an S3 versionId (its
// event came from a versioned bucket), not its eTag or sequencer.
func hasVersionID(j journal.Job) bool {
	return j.Version != "" && j.Version != j.ETag && j.Version != j.Sequencer
}

// judge compares what S3 says the key holds now with the job's event.
func judge(j journal.Job, etag, versionID string, size int64, modified *time.Time) verdict {
	when := "at an unknown time"
	if modified != nil {
		when = modified.UTC().Format("2006-01-02T15:04:05Z")
	}
	changed := verdict{state: journal.Received, size: size, changed: true, etag: etag, versionID: versionID}
	switch {
	case hasVersionID(j) && versionID != "" && versionID != j.Version:
		changed.note = fmt.Sprintf("the key holds version %s (written %s), not the event's %s", versionID, when, j.Version)
		return changed
	case j.ETag != "" && etag != "" && etag != j.ETag:
		changed.note = fmt.Sprintf("the key holds other bytes (eTag %s, written %s) than the event's (eTag %s)", etag, when, j.ETag)
		return changed
	}
	return verdict{state: journal.Received, size: size}
}
