package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rinhq/rin/redshift"
)

// checkManifests writes, reads back and deletes a manifest in each bucket
// rin writes manifests to, as every batch does. It returns the buckets
// that passed.
func (d *doctor) checkManifests(ctx context.Context, regions bucketRegion) map[string]bool {
	passed := map[string]bool{}
	if d.cfg.Manifest.Disabled {
		d.r.skip("manifest", "(disabled)", "manifest.disabled: rin writes no manifests; each object is its own prefix COPY")
		return passed
	}
	seen := map[string]bool{}
	for _, t := range d.cfg.Targets {
		b := d.manifestBucket(t.S3.Bucket)
		if t.Discard || !t.UsesManifest() || seen[b] {
			continue
		}
		seen[b] = true
		if regions[b] == "" {
			d.r.skip("manifest", "s3://"+b+"/"+d.cfg.Manifest.Prefix, "its bucket check did not pass")
			continue
		}
		key := redshift.ManifestKey(d.cfg.Manifest.Prefix, "doctor-"+randomID())
		uri := "s3://" + b + "/" + key
		if err := d.roundTrip(ctx, d.s3In(regions[b]), b, key); err != nil {
			d.r.fail("manifest", uri, err.Error(), fmt.Sprintf("rin needs s3:PutObject, s3:GetObject and s3:DeleteObject on arn:aws:s3:::%s/%s* (or set manifest.disabled: true, giving up exact loads)", b, d.cfg.Manifest.Prefix))
			continue
		}
		passed[b] = true
		d.r.ok("manifest", "s3://"+b+"/"+d.cfg.Manifest.Prefix, "written, read back and deleted")
	}
	return passed
}

// roundTrip writes an empty manifest, reads it back and deletes it.
func (d *doctor) roundTrip(ctx context.Context, client *s3.Client, bucket, key string) error {
	body := []byte(`{"entries":[]}` + "\n")
	return d.bounded(ctx, func(ctx context.Context) error {
		if err := redshift.PutObject(ctx, client, d.cfg.Manifest, bucket, key, body); err != nil {
			return err
		}
		out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err == nil {
			var got []byte
			got, err = io.ReadAll(io.LimitReader(out.Body, 1<<20))
			out.Body.Close()
			if err == nil && !bytes.Equal(got, body) {
				err = fmt.Errorf("read back %d bytes, not the %d written", len(got), len(body))
			}
		}
		if err != nil {
			d.remove(client, bucket, key)
			return fmt.Errorf("read back s3://%s/%s (GetObject): %w", bucket, key, err)
		}
		if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
			return fmt.Errorf("delete s3://%s/%s (DeleteObject; a lifecycle rule on the prefix can remove it): %w", bucket, key, err)
		}
		return nil
	})
}

// remove deletes an object doctor wrote, on a context of its own: it runs
// also when the check's context has ended.
func (d *doctor) remove(client *s3.Client, bucket, key string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
		d.log.Warn("doctor could not delete its object (delete it by hand)", "uri", "s3://"+bucket+"/"+key, "err", err)
	}
}

// manifestBucket is where manifests for objects of bucket go.
func (d *doctor) manifestBucket(bucket string) string {
	if d.cfg.Manifest.Bucket != "" {
		return d.cfg.Manifest.Bucket
	}
	return bucket
}

// s3In is an S3 client for a bucket's region, as the loader uses.
func (d *doctor) s3In(region string) *s3.Client {
	ac := d.aws.Copy()
	ac.Region = region
	return newS3(ac)
}

// randomID names doctor's objects, so that two doctors never collide.
func randomID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
