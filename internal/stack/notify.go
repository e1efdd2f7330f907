package stack

import (
	"context"
	"fmt"
	"time"
)

// UploadAndNotify stores body at s3://bucket/key and sends the matching S3
// event notification to queueURL, standing in for the bucket notification
// neither emulator sends. It returns the event it sent.
func (s *Stack) UploadAndNotify(ctx context.Context, queueURL, bucket, key string, body []byte) (ObjectEvent, error) {
	etag, version, err := s.s3.PutObject(ctx, bucket, key, body)
	if err != nil {
		return ObjectEvent{}, err
	}
	ev := ObjectEvent{
		Bucket: bucket, Key: key, Size: int64(len(body)),
		ETag: etag, VersionID: version, Time: time.Now(),
	}.WithDefaults()
	if _, err := s.sqs.SendMessage(ctx, queueURL, S3EventBody(ev)); err != nil {
		return ev, fmt.Errorf("notify s3://%s/%s: %w", bucket, key, err)
	}
	return ev, nil
}
