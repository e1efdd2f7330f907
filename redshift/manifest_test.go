package redshift

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/journal"
)

// recordingStore is an ObjectStore that remembers what it was asked.
type recordingStore struct {
	puts  []*s3.PutObjectInput
	heads []string
	size  int64
	err   error
}

func (s *recordingStore) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	s.puts = append(s.puts, in)
	return &s3.PutObjectOutput{}, s.err
}

func (s *recordingStore) DeleteObject(context.Context, *s3.DeleteObjectInput, ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	return &s3.DeleteObjectOutput{}, nil
}

func (s *recordingStore) HeadObject(_ context.Context, in *s3.HeadObjectInput, _ ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	s.heads = append(s.heads, aws.ToString(in.Key))
	return &s3.HeadObjectOutput{ContentLength: aws.Int64(s.size)}, s.err
}

func TestManifestEncryption(t *testing.T) {
	for _, c := range []struct {
		cfg    config.Manifest
		sse    types.ServerSideEncryption
		kmsKey string
	}{
		{config.Manifest{}, "", ""},
		{config.Manifest{SSE: "AES256"}, types.ServerSideEncryptionAes256, ""},
		{config.Manifest{SSE: "aws:kms", KMSKeyID: "arn:aws:kms:us-east-1:1:key/k"}, types.ServerSideEncryptionAwsKms, "arn:aws:kms:us-east-1:1:key/k"},
	} {
		st := &recordingStore{}
		if err := putManifest(context.Background(), manifestWriter{store: st, sse: c.cfg}, "b", "m", []byte("{}")); err != nil {
			t.Fatal(err)
		}
		in := st.puts[0]
		if in.ServerSideEncryption != c.sse || aws.ToString(in.SSEKMSKeyId) != c.kmsKey {
			t.Errorf("%+v: PutObject with SSE %q key %q", c.cfg, in.ServerSideEncryption, aws.ToString(in.SSEKMSKeyId))
		}
	}
}

// Objects whose event had no size are sized by a HEAD before a columnar
// manifest lists them; a refused HEAD is the bucket's fault.
func TestSizeJobs(t *testing.T) {
	st := &recordingStore{size: 99}
	jobs := []journal.Job{{Bucket: "b", Key: "known", Size: 5}, {Bucket: "b", Key: "unknown"}}
	if err := sizeJobs(context.Background(), st, jobs); err != nil {
		t.Fatal(err)
	}
	if len(st.heads) != 1 || st.heads[0] != "unknown" || jobs[0].Size != 5 || jobs[1].Size != 99 {
		t.Fatalf("heads %v, sizes %d %d", st.heads, jobs[0].Size, jobs[1].Size)
	}
	st.err = errors.New("dial tcp: timeout")
	jobs[1].Size = 0
	if err := sizeJobs(context.Background(), st, jobs); fsm.ScopeOf(err) != fsm.ScopeStatement {
		t.Fatalf("failed HEAD: %v (%s)", err, fsm.ScopeOf(err))
	}
}
