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
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/journal"
)

// ObjectStore is the part of S3 used to write and remove manifests, and
// to size objects whose event had no size.
type ObjectStore interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opts ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, opts ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
}

type manifestEntry struct {
	URL       string        `json:"url"`
	Mandatory bool          `json:"mandatory"`
	Meta      *manifestMeta `json:"meta,omitempty"`
}

// manifestMeta is required by Redshift for Parquet and ORC files: COPY
// fails on an entry without content_length, or with a wrong one.
type manifestMeta struct {
	ContentLength int64 `json:"content_length"`
}

type manifestFile struct {
	Entries []manifestEntry `json:"entries"`
}

// manifestBody lists the jobs' exact objects, each mandatory: a missing
// object fails the COPY instead of being skipped silently. For a columnar
// format every entry carries the object's size (sizeJobs fills in sizes
// the events lacked).
func manifestBody(jobs []journal.Job, columnar bool) []byte {
	m := manifestFile{Entries: make([]manifestEntry, len(jobs))}
	for i, j := range jobs {
		m.Entries[i] = manifestEntry{URL: j.URI(), Mandatory: true}
		if columnar {
			m.Entries[i].Meta = &manifestMeta{ContentLength: j.Size}
		}
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

// sizeJobs sets the size of jobs whose event carried none (0): a HEAD of
// the object. Only columnar manifests need sizes.
func sizeJobs(ctx context.Context, store ObjectStore, jobs []journal.Job) error {
	for i := range jobs {
		j := &jobs[i]
		if j.Size > 0 {
			continue
		}
		out, err := store.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(j.Bucket), Key: aws.String(j.Key)})
		if err != nil {
			return s3Fault(fmt.Errorf("size %s for its manifest entry (HEAD; rin needs s3:GetObject): %w", j.URI(), err))
		}
		j.Size = aws.ToInt64(out.ContentLength)
	}
	return nil
}

// manifestWriter writes manifests with the server-side encryption the
// config asks for.
type manifestWriter struct {
	store ObjectStore
	sse   config.Manifest
}

func putManifest(ctx context.Context, w manifestWriter, bucket, key string, body []byte) error {
	in := &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key),
		Body: bytes.NewReader(body), ContentType: aws.String("application/json"),
		ContentLength: aws.Int64(int64(len(body))),
	}
	switch {
	case w.sse.KMSKeyID != "":
		in.ServerSideEncryption = types.ServerSideEncryptionAwsKms
		in.SSEKMSKeyId = aws.String(w.sse.KMSKeyID)
	case w.sse.SSE != "":
		in.ServerSideEncryption = types.ServerSideEncryption(w.sse.SSE)
	}
	_, err := w.store.PutObject(ctx, in)
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
