package stack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/rinhq/rin/internal/stack/redshiftsim"
)

// S3Options configures StartS3.
type S3Options struct {
	// Addr to listen on; default 127.0.0.1:0.
	Addr   string
	Logger *slog.Logger
}

// S3 is an in-process gofakes3 (v1.2.0) server over plain HTTP.
//
// gofakes3 only does path-style addressing, and over HTTPS with the SDK's
// default checksums it stores the aws-chunked framing inside the object; plain
// HTTP plus RequestChecksumCalculation=WhenRequired avoids both. It sends no
// bucket notifications: tests send S3 events themselves (see events.go).
type S3 struct {
	srv      *http.Server
	endpoint string
	client   *s3.Client
	backend  *s3mem.Backend
	log      *slog.Logger
	served   chan struct{}
	regions  regionRules // s3regions.go

	closeOnce sync.Once
	closeErr  error
}

// StartS3 starts gofakes3 on a loopback port.
func StartS3(ctx context.Context, opts S3Options) (*S3, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("s3 listen %s: %w", opts.Addr, err)
	}
	backend := s3mem.New()
	faker := gofakes3.New(backend, gofakes3.WithLogger(slogS3Logger{log}))
	s := &S3{
		backend:  backend,
		endpoint: "http://" + ln.Addr().String(),
		log:      log,
		served:   make(chan struct{}),
	}
	s.srv = &http.Server{Handler: s.withRegions(faker.Server()), ReadHeaderTimeout: 30 * time.Second}
	s.client = newS3Client(s.endpoint)
	go func() {
		defer close(s.served)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("s3 server", "err", err)
		}
	}()
	log.Info("gofakes3 started", "endpoint", s.endpoint)
	return s, nil
}

// newS3Client builds a hermetic client for endpoint: path style, static keys,
// checksums only when an operation requires them.
func newS3Client(endpoint string) *s3.Client {
	return s3.New(s3.Options{
		Region:                     Region,
		BaseEndpoint:               aws.String(endpoint),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// Endpoint is the server's base URL (http://127.0.0.1:PORT).
func (s *S3) Endpoint() string { return s.endpoint }

// Client returns an S3 client bound to Endpoint.
func (s *S3) Client() *s3.Client { return s.client }

// Objects reads the stored objects directly, for the Redshift simulator:
// what rin writes and reads still goes through HTTP and the SDK, while the
// simulator, which stands for a cluster reading S3 on its own nodes, does
// not spend the machine's CPU on both ends of an HTTP call per object.
func (s *S3) Objects() redshiftsim.Objects { return memObjects{s.backend} }

type memObjects struct{ b *s3mem.Backend }

func (m memObjects) Get(_ context.Context, bucket, key string) ([]byte, error) {
	obj, err := m.b.GetObject(bucket, key, nil)
	if gofakes3.HasErrorCode(err, gofakes3.ErrNoSuchKey) || gofakes3.HasErrorCode(err, gofakes3.ErrNoSuchBucket) {
		return nil, fmt.Errorf("%w: s3://%s/%s", redshiftsim.ErrNoSuchObject, bucket, key)
	}
	if err != nil {
		return nil, err
	}
	defer obj.Contents.Close()
	return io.ReadAll(obj.Contents)
}

func (m memObjects) List(_ context.Context, bucket, prefix string) ([]string, error) {
	list, err := m.b.ListBucket(bucket, &gofakes3.Prefix{HasPrefix: true, Prefix: prefix}, gofakes3.ListBucketPage{})
	if gofakes3.HasErrorCode(err, gofakes3.ErrNoSuchBucket) {
		return nil, fmt.Errorf("%w: bucket %s", redshiftsim.ErrNoSuchObject, bucket)
	}
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(list.Contents))
	for i, c := range list.Contents {
		keys[i] = c.Key
	}
	return keys, nil
}

// CreateBucket creates bucket name.
func (s *S3) CreateBucket(ctx context.Context, name string) error {
	if _, err := s.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		return fmt.Errorf("create bucket %q: %w", name, err)
	}
	return nil
}

// EnableVersioning turns versioning on for bucket, so PutObject returns
// version ids (and events carry versionId).
func (s *S3) EnableVersioning(ctx context.Context, bucket string) error {
	_, err := s.client.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
		Bucket:                  aws.String(bucket),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled},
	})
	if err != nil {
		return fmt.Errorf("enable versioning on %q: %w", bucket, err)
	}
	return nil
}

// PutObject stores body and returns its ETag without the quotes (the form S3
// events use) and its version id ("" unless the bucket is versioned).
func (s *S3) PutObject(ctx context.Context, bucket, key string, body []byte) (etag, versionID string, err error) {
	out, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
	})
	if err != nil {
		return "", "", fmt.Errorf("put s3://%s/%s: %w", bucket, key, err)
	}
	return strings.Trim(aws.ToString(out.ETag), `"`), aws.ToString(out.VersionId), nil
}

// GetObject returns the object's content.
func (s *S3) GetObject(ctx context.Context, bucket, key string) ([]byte, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("read s3://%s/%s: %w", bucket, key, err)
	}
	return b, nil
}

// Close stops the server. Safe to call more than once.
func (s *S3) Close() error {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			s.closeErr = fmt.Errorf("stop s3: %w", errors.Join(err, s.srv.Close()))
		}
		<-s.served
	})
	return s.closeErr
}

// slogS3Logger routes gofakes3's log lines to slog at debug level (it logs
// every request at info).
type slogS3Logger struct{ log *slog.Logger }

func (l slogS3Logger) Print(level gofakes3.LogLevel, v ...any) {
	msg := fmt.Sprint(v...)
	switch level {
	case gofakes3.LogErr:
		l.log.Error("gofakes3", "msg", msg)
	case gofakes3.LogWarn:
		l.log.Warn("gofakes3", "msg", msg)
	default:
		l.log.Debug("gofakes3", "msg", msg)
	}
}
