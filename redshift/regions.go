package redshift

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rinhq/rin/fsm"
)

// An S3 bucket lives in one region. A request signed for another region is
// refused (301 PermanentRedirect), and a COPY reads S3 in the region of its
// REGION clause, else in the cluster's: both the S3 client that writes a
// batch's manifest and the COPY must use the bucket's region. rin finds
// each bucket's region once (GetBucketLocation, answered from any region),
// caches it, and finds it again after a 301 — a bucket does not move, but a
// wrong guess or a recreated bucket must heal without a restart.
//
// A Rin config's s3.region names the bucket's region: it is pinned, sets
// the S3 client's region and is sent as REGION, as in the original Rin.

// BucketLocator is the S3 call region discovery needs.
type BucketLocator interface {
	GetBucketLocation(ctx context.Context, in *s3.GetBucketLocationInput, opts ...func(*s3.Options)) (*s3.GetBucketLocationOutput, error)
}

// BucketRegions finds and caches buckets' regions. Safe for concurrent use.
type BucketRegions struct {
	api    BucketLocator
	mu     sync.Mutex
	known  map[string]string
	pinned map[string]string // from the config's s3.region; never forgotten
}

// NewBucketRegions returns an empty cache that asks api.
func NewBucketRegions(api BucketLocator) *BucketRegions {
	return &BucketRegions{api: api, known: map[string]string{}, pinned: map[string]string{}}
}

// Pin records a bucket's region as the config states it.
func (r *BucketRegions) Pin(bucket, region string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pinned[bucket] = region
}

// Region returns bucket's region, asking S3 the first time.
func (r *BucketRegions) Region(ctx context.Context, bucket string) (string, error) {
	r.mu.Lock()
	if reg, ok := r.pinned[bucket]; ok {
		r.mu.Unlock()
		return reg, nil
	}
	if reg, ok := r.known[bucket]; ok {
		r.mu.Unlock()
		return reg, nil
	}
	r.mu.Unlock()
	out, err := r.api.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(bucket)})
	if err != nil {
		return "", s3Fault(fmt.Errorf("find the region of bucket %s (GetBucketLocation; rin needs s3:GetBucketLocation): %w", bucket, err))
	}
	reg := string(out.LocationConstraint)
	switch reg {
	case "":
		reg = "us-east-1" // S3's answer for us-east-1
	case "EU":
		reg = "eu-west-1" // a legacy answer
	}
	r.mu.Lock()
	r.known[bucket] = reg
	r.mu.Unlock()
	return reg, nil
}

// Forget drops a discovered region, so the next use asks again.
func (r *BucketRegions) Forget(bucket string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.known, bucket)
}

// isRedirect reports whether err is S3's wrong-region refusal, as S3 or
// Redshift reports it.
func isRedirect(err error) bool {
	s := err.Error()
	return strings.Contains(s, "PermanentRedirect") || strings.Contains(s, "Status 301") ||
		strings.Contains(s, "StatusCode: 301") || strings.Contains(s, "MovedPermanently")
}

// RegionalStore is an ObjectStore that sends each request to the S3
// client of its bucket's region.
type RegionalStore struct {
	Regions *BucketRegions
	// ClientFor returns the S3 client for a region.
	ClientFor func(region string) ObjectStore
}

var _ ObjectStore = (*RegionalStore)(nil)

func (s *RegionalStore) client(ctx context.Context, bucket *string) (ObjectStore, error) {
	reg, err := s.Regions.Region(ctx, aws.ToString(bucket))
	if err != nil {
		return nil, err
	}
	return s.ClientFor(reg), nil
}

// do runs call on the bucket's client; after a 301 it finds the region
// again and retries once.
func regional[T any](ctx context.Context, s *RegionalStore, bucket *string, call func(ObjectStore) (T, error)) (T, error) {
	var zero T
	for attempt := 0; ; attempt++ {
		c, err := s.client(ctx, bucket)
		if err != nil {
			return zero, err
		}
		out, err := call(c)
		if err != nil && attempt == 0 && isRedirect(err) {
			s.Regions.Forget(aws.ToString(bucket))
			continue
		}
		return out, err
	}
}

func (s *RegionalStore) PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	return regional(ctx, s, in.Bucket, func(c ObjectStore) (*s3.PutObjectOutput, error) {
		if seeker, ok := in.Body.(interface {
			Seek(int64, int) (int64, error)
		}); ok {
			seeker.Seek(0, 0) // a retry after a redirect sends the body again
		}
		return c.PutObject(ctx, in, opts...)
	})
}

func (s *RegionalStore) DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opts ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	return regional(ctx, s, in.Bucket, func(c ObjectStore) (*s3.DeleteObjectOutput, error) { return c.DeleteObject(ctx, in, opts...) })
}

func (s *RegionalStore) HeadObject(ctx context.Context, in *s3.HeadObjectInput, opts ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	return regional(ctx, s, in.Bucket, func(c ObjectStore) (*s3.HeadObjectOutput, error) { return c.HeadObject(ctx, in, opts...) })
}

// Regional is an fsm.Copier that gives each batch the COPY REGION its
// bucket needs before handing it on: the config's s3.region when set, else
// the bucket's discovered region when it is not the cluster's. A COPY
// refused with 301 makes the bucket's region be found again (the fault
// itself holds the bucket, fsm/hold.go).
type Regional struct {
	Next    fsm.Copier
	Regions *BucketRegions
	// ClusterRegion is the region of an endpoint's cluster ("" unknown:
	// then REGION is always sent, which is harmless for text formats).
	ClusterRegion func(endpoint string) string
}

var _ fsm.Copier = Regional{}

// Copy implements fsm.Copier.
func (r Regional) Copy(ctx context.Context, b fsm.Batch) (fsm.Result, error) {
	if b.Dest.Region == "" && b.Dest.Bucket != "" {
		reg, err := r.Regions.Region(ctx, b.Dest.Bucket)
		if err != nil {
			return fsm.Result{}, err
		}
		if reg != r.ClusterRegion(b.Dest.Endpoint) {
			b.Dest.Region = reg
		}
	}
	res, err := r.Next.Copy(ctx, b)
	if err != nil && fsm.ScopeOf(err) == fsm.ScopeBucket && isRedirect(err) {
		r.Regions.Forget(b.Dest.Bucket)
	}
	return res, err
}

// ClusterRegionOf reads a cluster's region from its host name
// (name.id.REGION.redshift.amazonaws.com, or .redshift-serverless.
// for a workgroup), else returns fallback (the config's aws_region).
func ClusterRegionOf(host, fallback string) string {
	labels := strings.Split(strings.ToLower(host), ".")
	for i := 1; i+1 < len(labels); i++ {
		if (labels[i+1] == "redshift" || labels[i+1] == "redshift-serverless") && strings.Count(labels[i], "-") >= 2 {
			return labels[i]
		}
	}
	return fallback
}

// ListObjectsV2 lists on the bucket's regional client, when that client
// can list (objectLister).
func (s *RegionalStore) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	return regional(ctx, s, in.Bucket, func(c ObjectStore) (*s3.ListObjectsV2Output, error) {
		l, ok := c.(objectLister)
		if !ok {
			return nil, errNoList
		}
		return l.ListObjectsV2(ctx, in, opts...)
	})
}
