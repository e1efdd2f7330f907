package config

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// S3Getter fetches an object. It is injected (WithS3Getter) so that this
// package builds no AWS clients: the caller owns credentials and region.
type S3Getter func(ctx context.Context, bucket, key string) ([]byte, error)

// Option adjusts Load and Parse.
type Option func(*options)

type options struct {
	s3Get         S3Getter
	httpClient    *http.Client
	lookupEnv     func(string) (string, bool)
	queueOptional bool
	maxSize       int64
}

func newOptions(opts []Option) options {
	o := options{httpClient: http.DefaultClient, lookupEnv: os.LookupEnv, maxSize: 16 << 20}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithS3Getter enables s3://bucket/key locations.
func WithS3Getter(get S3Getter) Option { return func(o *options) { o.s3Get = get } }

// WithHTTPClient sets the client for http(s):// locations
// (default http.DefaultClient; the context bounds the request).
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithLookupEnv replaces os.LookupEnv for templates and PGSSLMODE, so
// tests need not touch the process environment.
func WithLookupEnv(f func(string) (string, bool)) Option {
	return func(o *options) { o.lookupEnv = f }
}

// WithQueueOptional accepts a config without queue_name, for Lambda mode
// where the SQS event source delivers the messages (as the original Rin).
func WithQueueOptional() Option { return func(o *options) { o.queueOptional = true } }

// Load reads a config from location and parses it. location is a file path,
// a file:// URL, an http:// or https:// URL (a non-200 answer is an error),
// or s3://bucket/key (needs WithS3Getter; the key is taken literally, as
// the AWS CLI does, not URL-decoded).
func Load(ctx context.Context, location string, opts ...Option) (*Config, error) {
	o := newOptions(opts)
	data, source, err := fetch(ctx, location, o)
	if err != nil {
		return nil, err
	}
	return Parse(data, source, opts...)
}

// fetch returns the bytes at location and a name for it that is safe to
// log (no userinfo, no query string: presigned URLs carry signatures).
func fetch(ctx context.Context, location string, o options) ([]byte, string, error) {
	if location == "" {
		return nil, "", fmt.Errorf("%w: empty location", ErrLocation)
	}
	scheme, rest, hasScheme := strings.Cut(location, "://")
	if !hasScheme {
		return readFile(location, o.maxSize)
	}
	switch strings.ToLower(scheme) {
	case "file":
		u, err := url.Parse(location)
		if err != nil {
			return nil, location, fmt.Errorf("%w: %s: %w", ErrLocation, location, err)
		}
		path := u.Path
		if u.Host != "" && u.Host != "localhost" {
			path = u.Host + u.Path // file://config.yaml: a relative path
		}
		return readFile(path, o.maxSize)
	case "http", "https":
		return fetchHTTP(ctx, location, o)
	case "s3":
		bucket, key, _ := strings.Cut(rest, "/")
		source := "s3://" + bucket + "/" + key
		if bucket == "" || key == "" {
			return nil, source, fmt.Errorf("%w: %s: want s3://bucket/key", ErrLocation, source)
		}
		if o.s3Get == nil {
			return nil, source, fmt.Errorf("%w: %s: no S3 getter configured", ErrLocation, source)
		}
		data, err := o.s3Get(ctx, bucket, key)
		if err != nil {
			return nil, source, fmt.Errorf("%w: %s: %w", ErrLocation, source, err)
		}
		return data, source, nil
	default:
		return nil, location, fmt.Errorf("%w: %s: scheme %q is not supported (use a path, file://, http://, https:// or s3://)", ErrLocation, location, scheme)
	}
}

func readFile(path string, limit int64) ([]byte, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, path, fmt.Errorf("%w: %w", ErrLocation, err)
	}
	defer f.Close()
	data, err := readLimited(f, limit)
	if err != nil {
		return nil, path, fmt.Errorf("%w: %s: %w", ErrLocation, path, err)
	}
	return data, path, nil
}

func fetchHTTP(ctx context.Context, location string, o options) ([]byte, string, error) {
	u, err := url.Parse(location)
	if err != nil {
		return nil, "(invalid URL)", fmt.Errorf("%w: invalid URL: %w", ErrLocation, err)
	}
	safe := *u
	safe.User, safe.RawQuery, safe.Fragment = nil, "", ""
	source := safe.String()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, location, nil)
	if err != nil {
		return nil, source, fmt.Errorf("%w: %s: %w", ErrLocation, source, err)
	}
	resp, err := o.httpClient.Do(req)
	if err != nil {
		// url.Error repeats the full URL; report the safe one only.
		if ue, ok := err.(*url.Error); ok {
			err = ue.Err
		}
		return nil, source, fmt.Errorf("%w: %s: %w", ErrLocation, source, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, source, fmt.Errorf("%w: %s: HTTP %s", ErrLocation, source, resp.Status)
	}
	data, err := readLimited(resp.Body, o.maxSize)
	if err != nil {
		return nil, source, fmt.Errorf("%w: %s: %w", ErrLocation, source, err)
	}
	return data, source, nil
}

// readLimited refuses oversized input rather than truncating it into a
// config that parses but means something else.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return data, nil
}
