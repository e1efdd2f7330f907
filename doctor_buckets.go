package main

import (
	"context"
	"fmt"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/redshift"
)

// bucketRegion is what the bucket check learnt: the region to use ("" when
// it could not be found, which fails every check on that bucket).
type bucketRegion map[string]string

// checkBuckets finds each bucket's region the way rin does
// (GetBucketLocation), and compares it with the config's s3.region, which
// rin pins and sends as COPY's REGION: a wrong one fails every COPY.
func (d *doctor) checkBuckets(ctx context.Context) bucketRegion {
	pinned := map[string]string{}
	var buckets []string
	add := func(b, region string) {
		if b == "" {
			return
		}
		if _, seen := pinned[b]; !seen {
			buckets = append(buckets, b)
			pinned[b] = region
		}
		if pinned[b] == "" {
			pinned[b] = region
		}
	}
	for _, t := range d.cfg.Targets {
		if !t.Discard {
			add(t.S3.Bucket, t.S3.Region)
		}
	}
	if d.cfg.Manifest.Bucket != "" && !d.cfg.Manifest.Disabled {
		add(d.cfg.Manifest.Bucket, "")
	}
	locator := redshift.NewBucketRegions(newS3(d.aws)) // nothing pinned: ask S3
	out := bucketRegion{}
	for _, b := range buckets {
		var got string
		err := d.bounded(ctx, func(ctx context.Context) (err error) {
			got, err = locator.Region(ctx, b)
			return err
		})
		want := pinned[b]
		switch {
		case err != nil && want != "":
			out[b] = want
			d.r.warn("bucket", b, fmt.Sprintf("cannot check its region (%v); rin uses s3.region %s as configured", err, want),
				"grant s3:GetBucketLocation on arn:aws:s3:::"+b+" to let doctor check it")
		case err != nil:
			d.r.fail("bucket", b, err.Error(), "check the bucket name, and grant s3:GetBucketLocation on arn:aws:s3:::"+b+" (or set s3.region for it in the config)")
		case want != "" && want != got:
			d.r.fail("bucket", b, fmt.Sprintf("s3.region says %s, but the bucket is in %s: every COPY would fail with a 301 redirect", want, got),
				"set s3.region: "+got+" (or remove it: rin finds the region itself)")
		default:
			out[b] = got
			d.r.ok("bucket", b, "in "+got)
		}
	}
	d.checkColumnarRegions(out)
	return out
}

// checkColumnarRegions fails Parquet and ORC targets whose bucket is not
// in their cluster's region: their COPY takes no REGION.
func (d *doctor) checkColumnarRegions(regions bucketRegion) {
	for i := range d.cfg.Targets {
		t := &d.cfg.Targets[i]
		format := config.ColumnarFormat(t.SQLOption)
		got := regions[t.S3.Bucket]
		if t.Discard || format == "" || got == "" {
			continue
		}
		if cluster := d.clusterRegion(t.Redshift); got != cluster {
			d.r.fail("bucket", t.Name()+" "+t.S3.Bucket, fmt.Sprintf("%s objects must be in the cluster's region (%s); the bucket is in %s, and Redshift refuses REGION for %s", format, cluster, got, format),
				"load from a bucket in "+cluster+" (S3 replication can copy the objects there)")
		}
	}
}

// clusterRegion is an endpoint's region, as the loader works it out.
func (d *doctor) clusterRegion(r config.Redshift) string {
	return redshift.ClusterRegionOf(r.Host, d.aws.Region)
}
