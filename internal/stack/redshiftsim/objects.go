package redshiftsim

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// Objects is where the simulator reads what a COPY names. A real cluster
// reads S3 on its own nodes; the simulator runs beside the code under test,
// so the stack can hand it the S3 emulator's store directly (no HTTP, no
// SDK) and keep the simulator's own cost out of what a benchmark measures.
type Objects interface {
	// Get returns an object's bytes, or an error wrapping ErrNoSuchObject
	// when the bucket or key does not exist.
	Get(ctx context.Context, bucket, key string) ([]byte, error)
	// List returns the keys under prefix in key order, or an error wrapping
	// ErrNoSuchObject when the bucket does not exist.
	List(ctx context.Context, bucket, prefix string) ([]string, error)
}

// ErrNoSuchObject: the bucket or key a COPY names does not exist.
var ErrNoSuchObject = errors.New("no such object")

// SDKObjects reads through an S3 client (gofakes3 in tests, path style).
func SDKObjects(c *s3.Client) Objects { return sdkObjects{c} }

type sdkObjects struct{ c *s3.Client }

func (o sdkObjects) Get(ctx context.Context, bucket, key string) ([]byte, error) {
	out, err := o.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, notFound(err)
	}
	defer out.Body.Close()
	return readLimited(out.Body, "object")
}

func (o sdkObjects) List(ctx context.Context, bucket, prefix string) ([]string, error) {
	var keys []string
	pager := s3.NewListObjectsV2Paginator(o.c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, notFound(err)
		}
		for _, obj := range page.Contents {
			keys = append(keys, aws.ToString(obj.Key))
		}
	}
	return keys, nil
}

// readLimited reads at most maxObjectSize bytes of what; more is an error.
func readLimited(r io.Reader, what string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxObjectSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxObjectSize {
		return nil, fmt.Errorf("%s larger than %d bytes", what, maxObjectSize)
	}
	return data, nil
}

// notFound marks the SDK's not-found errors with ErrNoSuchObject.
func notFound(err error) error {
	var nsk *s3types.NoSuchKey
	var nsb *s3types.NoSuchBucket
	var nf *s3types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nsb) || errors.As(err, &nf) {
		return fmt.Errorf("%w: %w", ErrNoSuchObject, err)
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "NoSuchKey", "NoSuchBucket", "NotFound":
			return fmt.Errorf("%w: %w", ErrNoSuchObject, err)
		}
	}
	return err
}

// objects is where this server reads objects: Config.Objects, else
// Config.S3, else nowhere (every COPY fails).
func (s *Server) objects() Objects {
	switch {
	case s.cfg.Objects != nil:
		return s.cfg.Objects
	case s.cfg.S3 != nil:
		return SDKObjects(s.cfg.S3)
	}
	return nil
}
