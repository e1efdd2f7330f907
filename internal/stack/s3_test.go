package stack_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rinhq/rin/internal/stack"
	"github.com/rinhq/rin/internal/stack/redshiftsim"
	"github.com/rinhq/rin/internal/stack/stacktest"
)

func startS3(t *testing.T) *stack.S3 {
	t.Helper()
	s, err := stack.StartS3(t.Context(), stack.S3Options{Logger: stacktest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestS3PutGetList(t *testing.T) {
	s := startS3(t)
	ctx := t.Context()
	if err := s.CreateBucket(ctx, "data"); err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"id":1}` + "\n")
	key := "logs/a b+c/ü'x;.json"
	etag, version, err := s.PutObject(ctx, "data", key, body)
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(body)
	if etag != hex.EncodeToString(sum[:]) {
		t.Fatalf("etag %q, want md5 %x (unquoted)", etag, sum)
	}
	if version != "" {
		t.Fatalf("unversioned bucket returned version %q", version)
	}
	got, err := s.GetObject(ctx, "data", key)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("GetObject = %q, %v", got, err)
	}
	for _, k := range []string{"logs/a/1", "logs/a/10", "other/x"} {
		if _, _, err := s.PutObject(ctx, "data", k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	out, err := s.Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("data"), Prefix: aws.String("logs/a/1")})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	if len(keys) != 2 || keys[0] != "logs/a/1" || keys[1] != "logs/a/10" {
		t.Fatalf("prefix listing = %q", keys)
	}
}

func TestS3Versioning(t *testing.T) {
	s := startS3(t)
	ctx := t.Context()
	if err := s.CreateBucket(ctx, "versioned"); err != nil {
		t.Fatal(err)
	}
	if err := s.EnableVersioning(ctx, "versioned"); err != nil {
		t.Fatal(err)
	}
	_, v1, err := s.PutObject(ctx, "versioned", "k", []byte("one"))
	if err != nil {
		t.Fatal(err)
	}
	_, v2, err := s.PutObject(ctx, "versioned", "k", []byte("two"))
	if err != nil {
		t.Fatal(err)
	}
	if v1 == "" || v2 == "" || v1 == v2 {
		t.Fatalf("versions %q, %q", v1, v2)
	}
	out, err := s.Client().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("versioned"), Key: aws.String("k"), VersionId: aws.String(v1)})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(b) != "one" {
		t.Fatalf("version %s = %q", v1, b)
	}
}

// TestS3ThroughStandardEnv shows a client configured only by the standard
// AWS environment (what Stack.Env exports) reaches gofakes3: the endpoint
// host is an IP, so the SDK picks path-style addressing on its own.
func TestS3ThroughStandardEnv(t *testing.T) {
	s := startS3(t)
	ctx := t.Context()
	if err := s.CreateBucket(ctx, "envbucket"); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ENDPOINT_URL_S3", s.Endpoint())
	t.Setenv("AWS_ACCESS_KEY_ID", stack.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", stack.SecretAccessKey)
	t.Setenv("AWS_REGION", stack.Region)
	t.Setenv("AWS_REQUEST_CHECKSUM_CALCULATION", "when_required")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := s3.NewFromConfig(cfg) // note: no UsePathStyle
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("envbucket"), Key: aws.String("k 1"), Body: bytes.NewReader([]byte("x"))}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetObject(ctx, "envbucket", "k 1")
	if err != nil || string(got) != "x" {
		t.Fatalf("GetObject = %q, %v", got, err)
	}
}

// The simulator's direct view of the store agrees with what the SDK sees.
func TestS3ObjectsForSimulator(t *testing.T) {
	s := startS3(t)
	ctx := t.Context()
	if err := s.CreateBucket(ctx, "data"); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"logs/a/10", "logs/a/1", "logs/b", "other/x"} {
		if _, _, err := s.PutObject(ctx, "data", k, []byte("body of "+k)); err != nil {
			t.Fatal(err)
		}
	}
	objs := s.Objects()
	if got, err := objs.Get(ctx, "data", "logs/a/1"); err != nil || string(got) != "body of logs/a/1" {
		t.Errorf("Get = %q, %v", got, err)
	}
	for _, missing := range [][2]string{{"data", "nope"}, {"nobucket", "logs/a/1"}} {
		if _, err := objs.Get(ctx, missing[0], missing[1]); !errors.Is(err, redshiftsim.ErrNoSuchObject) {
			t.Errorf("Get %v: %v, want ErrNoSuchObject", missing, err)
		}
	}
	keys, err := objs.List(ctx, "data", "logs/a/")
	if err != nil || strings.Join(keys, ",") != "logs/a/1,logs/a/10" {
		t.Errorf("List = %q, %v", keys, err)
	}
	if _, err := objs.List(ctx, "nobucket", ""); !errors.Is(err, redshiftsim.ErrNoSuchObject) {
		t.Errorf("List of a missing bucket: %v, want ErrNoSuchObject", err)
	}
}
