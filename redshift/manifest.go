package redshift

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/rinhq/rin/journal"
)

// ObjectStore is the part of S3 used to write and remove manifests.
type ObjectStore interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opts ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

type manifestEntry struct {
	URL       string `json:"url"`
	Mandatory bool   `json:"mandatory"`
}

type manifestFile struct {
	Entries []manifestEntry `json:"entries"`
}

// manifestBody lists the jobs' exact objects, each mandatory: a missing
// object fails the COPY instead of being skipped silently.
func manifestBody(jobs []journal.Job) []byte {
	m := manifestFile{Entries: make([]manifestEntry, len(jobs))}
	for i, j := range jobs {
		m.Entries[i] = manifestEntry{URL: j.URI(), Mandatory: true}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(m)
	return buf.Bytes()
}

// manifestKey is where a batch's manifest lives.
func manifestKey(prefix, batchID string) string {
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return prefix + batchID + ".manifest"
}

func putManifest(ctx context.Context, store ObjectStore, bucket, key string, body []byte) error {
	_, err := store.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key),
		Body: bytes.NewReader(body), ContentType: aws.String("application/json"),
		ContentLength: aws.Int64(int64(len(body))),
	})
	if err != nil {
		return s3Fault(fmt.Errorf("write manifest s3://%s/%s (rin needs s3:PutObject there; or set manifest.disabled: true): %w", bucket, key, err))
	}
	return nil
}

// removeManifest deletes a manifest, on a context of its own: it runs when
// the load is over, also when the load's context was cancelled.
func removeManifest(store ObjectStore, log *slog.Logger, bucket, key string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := store.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
		log.Warn("could not delete manifest (harmless; delete it by hand or with an S3 lifecycle rule)", "uri", "s3://"+bucket+"/"+key, "err", err)
	}
}
