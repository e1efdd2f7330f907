package backfill

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/rinhq/rin/sqsx"
)

// S3API is the part of the S3 client listing uses (*s3.Client).
type S3API interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	ListObjectVersions(ctx context.Context, in *s3.ListObjectVersionsInput, opts ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error)
	GetBucketVersioning(ctx context.Context, in *s3.GetBucketVersioningInput, opts ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error)
}

// Source is a prefix to list: s3://bucket/prefix.
type Source struct {
	Bucket, Prefix string
}

// ParseSource reads s3://bucket/prefix (the prefix may be empty).
func ParseSource(s string) (Source, error) {
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		return Source{}, fmt.Errorf("%q: want s3://bucket/prefix", s)
	}
	bucket, prefix, _ := strings.Cut(rest, "/")
	if bucket == "" {
		return Source{}, fmt.Errorf("%q: no bucket (want s3://bucket/prefix)", s)
	}
	return Source{Bucket: bucket, Prefix: prefix}, nil
}

// String is the source as given: s3://bucket/prefix.
func (s Source) String() string { return "s3://" + s.Bucket + "/" + s.Prefix }

// Object is one object found by listing, in its current version.
type Object struct {
	Bucket, Key  string
	Size         int64
	ETag         string // without quotes, as S3 events carry it
	VersionID    string // "" unless the bucket is versioned and the version is not "null"
	LastModified time.Time
}

// URI is the object as Redshift names it.
func (o Object) URI() string { return "s3://" + o.Bucket + "/" + o.Key }

// Record is the object as its S3 event would announce it, so that its jobs
// get the ids the event's would. It has no event time: a backfilled job
// must not count as lag.
func (o Object) Record() sqsx.Record {
	return sqsx.Record{Bucket: o.Bucket, Key: o.Key, Size: o.Size, ETag: o.ETag, VersionID: o.VersionID}
}

// Versions says how to list: with versions (ListObjectVersions), without
// (ListObjectsV2), or as the bucket's versioning says (GetBucketVersioning).
type Versions string

// The values of Versions.
const (
	VersionsAuto Versions = "auto"
	VersionsOn   Versions = "on"
	VersionsOff  Versions = "off"
)

// ListOptions tune List.
type ListOptions struct {
	// Since and Until bound LastModified (zero: unbounded); Until is
	// exclusive.
	Since, Until time.Time
	Versions     Versions
	// Skip leaves out keys nothing may load: rin's own manifests.
	Skip func(bucket, key string) bool
	// PageSize is the listing's page size (S3's maximum, 1000, when 0).
	PageSize int32
}

// in reports whether t is within [Since, Until).
func (o ListOptions) in(t time.Time) bool {
	return (o.Since.IsZero() || !t.Before(o.Since)) && (o.Until.IsZero() || t.Before(o.Until))
}

// ListStats count what listing left out.
type ListStats struct {
	Skipped    int // under rin's manifest prefix
	OutOfRange int // LastModified outside -since/-until
}

// List calls fn with each page of src's current objects within the time
// range, in key order, and returns what it left out.
func List(ctx context.Context, api S3API, src Source, o ListOptions, fn func([]Object) error) (ListStats, error) {
	var st ListStats
	versioned, err := isVersioned(ctx, api, src.Bucket, o.Versions)
	if err != nil {
		return st, err
	}
	keep := func(page []Object) []Object {
		out := page[:0]
		for _, obj := range page {
			switch {
			case o.Skip != nil && o.Skip(obj.Bucket, obj.Key):
				st.Skipped++
			case !o.in(obj.LastModified):
				st.OutOfRange++
			default:
				out = append(out, obj)
			}
		}
		return out
	}
	size := o.PageSize
	if size <= 0 {
		size = 1000
	}
	if versioned {
		return st, listVersions(ctx, api, src, size, func(p []Object) error { return fn(keep(p)) })
	}
	return st, listCurrent(ctx, api, src, size, func(p []Object) error { return fn(keep(p)) })
}

// isVersioned decides between the two listings.
func isVersioned(ctx context.Context, api S3API, bucket string, v Versions) (bool, error) {
	switch v {
	case VersionsOn:
		return true, nil
	case VersionsOff:
		return false, nil
	case VersionsAuto, "":
	default:
		return false, fmt.Errorf("versions %q: want auto, on or off", v)
	}
	out, err := api.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
	if err != nil {
		return false, fmt.Errorf("bucket %s: versioning (needs s3:GetBucketVersioning, or say -versions on|off): %w", bucket, err)
	}
	return out.Status == types.BucketVersioningStatusEnabled || out.Status == types.BucketVersioningStatusSuspended, nil
}

func listCurrent(ctx context.Context, api S3API, src Source, size int32, fn func([]Object) error) error {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(src.Bucket), Prefix: aws.String(src.Prefix), MaxKeys: aws.Int32(size)}
	for {
		out, err := api.ListObjectsV2(ctx, in)
		if err != nil {
			return fmt.Errorf("list %s: %w", src, err)
		}
		page := make([]Object, 0, len(out.Contents))
		for _, c := range out.Contents {
			page = append(page, Object{
				Bucket: src.Bucket, Key: aws.ToString(c.Key), Size: aws.ToInt64(c.Size),
				ETag: strings.Trim(aws.ToString(c.ETag), `"`), LastModified: aws.ToTime(c.LastModified),
			})
		}
		if err := fn(page); err != nil {
			return err
		}
		if !aws.ToBool(out.IsTruncated) || aws.ToString(out.NextContinuationToken) == "" {
			return nil
		}
		in.ContinuationToken = out.NextContinuationToken
	}
}

func listVersions(ctx context.Context, api S3API, src Source, size int32, fn func([]Object) error) error {
	in := &s3.ListObjectVersionsInput{Bucket: aws.String(src.Bucket), Prefix: aws.String(src.Prefix), MaxKeys: aws.Int32(size)}
	for {
		out, err := api.ListObjectVersions(ctx, in)
		if err != nil {
			return fmt.Errorf("list versions of %s (needs s3:ListBucketVersions): %w", src, err)
		}
		var page []Object
		for _, v := range out.Versions {
			if !aws.ToBool(v.IsLatest) {
				continue // noncurrent; a latest delete marker is simply absent here
			}
			id := aws.ToString(v.VersionId)
			if id == "null" {
				id = "" // written unversioned: its event had no versionId
			}
			page = append(page, Object{
				Bucket: src.Bucket, Key: aws.ToString(v.Key), Size: aws.ToInt64(v.Size), VersionID: id,
				ETag: strings.Trim(aws.ToString(v.ETag), `"`), LastModified: aws.ToTime(v.LastModified),
			})
		}
		if err := fn(page); err != nil {
			return err
		}
		if !aws.ToBool(out.IsTruncated) {
			return nil
		}
		if out.NextKeyMarker == nil && out.NextVersionIdMarker == nil {
			return errors.New("list versions: truncated page without a next marker")
		}
		in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
	}
}
