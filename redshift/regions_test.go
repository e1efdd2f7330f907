package redshift

import (
	"bytes"
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rinhq/rin/internal/stackproc"
)

func TestClusterRegionOf(t *testing.T) {
	for host, want := range map[string]string{
		"examplecluster.abc123xyz789.us-west-2.redshift.amazonaws.com":       "us-west-2",
		"analytics.123456789012.eu-west-1.redshift-serverless.amazonaws.com": "eu-west-1",
		"EXAMPLE.CX1.AP-NORTHEAST-1.REDSHIFT.AMAZONAWS.COM":                  "ap-northeast-1",
		"127.0.0.1":         "fallback-1",
		"redshift.internal": "fallback-1",
		"cluster.abc.cn-north-1.redshift.amazonaws.com.cn": "cn-north-1",
	} {
		if got := ClusterRegionOf(host, "fallback-1"); got != want {
			t.Errorf("%s: %q, want %q", host, got, want)
		}
	}
}

// Against the stack's S3, which refuses requests signed for the wrong
// region as S3 does: the region is found once, the store writes with the
// bucket's region, and a bucket that moved is found again after its 301.
func TestRegionalStoreFollowsBuckets(t *testing.T) {
	st := shared.Get(t)
	ctx := context.Background()
	bucket := stackproc.NewBucket(t, st)
	must(t, st.SetBucketRegion(bucket, "eu-west-1"))
	defer func() { must(t, st.SetBucketRegion(bucket, "")) }()

	clientFor := func(region string) *s3.Client {
		return s3.NewFromConfig(aws.Config{}, func(o *s3.Options) {
			*o = st.S3().Options()
			o.Region = region
		})
	}
	// The stack's own client signs for us-east-1: refused.
	if _, err := st.S3().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("x"), Body: bytes.NewReader([]byte("x"))}); err == nil || !isRedirect(err) {
		t.Fatalf("a request signed for the wrong region: %v", err)
	}
	regions := NewBucketRegions(st.S3())
	calls := map[string]int{}
	store := &RegionalStore{Regions: regions, ClientFor: func(region string) ObjectStore { calls[region]++; return clientFor(region) }}
	w := manifestWriter{store: store}
	if err := putManifest(ctx, w, bucket, "m1", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if got, _ := regions.Region(ctx, bucket); got != "eu-west-1" || calls["eu-west-1"] != 1 {
		t.Fatalf("region %q, clients %v", got, calls)
	}
	// The bucket "moves": the cached region gets a 301, which makes the
	// store find the region again and retry once.
	must(t, st.SetBucketRegion(bucket, "ap-northeast-1"))
	if err := putManifest(ctx, w, bucket, "m2", []byte("{}")); err != nil {
		t.Fatalf("after the move: %v", err)
	}
	if got, _ := regions.Region(ctx, bucket); got != "ap-northeast-1" {
		t.Fatalf("region after the move: %q", got)
	}
	// A pinned region (the config's s3.region) is never asked for.
	regions.Pin("pinned-bucket", "sa-east-1")
	if got, err := regions.Region(ctx, "pinned-bucket"); got != "sa-east-1" || err != nil {
		t.Fatalf("pinned: %q %v", got, err)
	}
}
