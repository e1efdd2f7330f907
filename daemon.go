package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	rsapi "github.com/aws/aws-sdk-go-v2/service/redshift"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/internal/httpbody"
	"github.com/rinhq/rin/journal"
	"github.com/rinhq/rin/sqsx"
)

// daemon is a loaded config and the AWS clients it needs.
type daemon struct {
	cfg *config.Config
	log *slog.Logger
	aws aws.Config
	s3  *s3.Client
	sqs *sqs.Client
	rs  *rsapi.Client
}

// loadDaemon reads the config (from S3 too, with the default AWS chain)
// and builds the AWS clients with the config's credentials.
func loadDaemon(ctx context.Context, location string, log *slog.Logger) (*daemon, error) {
	cfg, ac, err := loadConfig(ctx, location, log)
	if err != nil {
		return nil, err
	}
	return &daemon{cfg: cfg, log: log, aws: ac, s3: newS3(ac), sqs: sqs.NewFromConfig(ac), rs: rsapi.NewFromConfig(ac)}, nil
}

// loadConfig reads the config from a path or URL (s3:// through the
// default AWS chain), logs its warnings and returns it with the AWS config
// built from its credentials.
func loadConfig(ctx context.Context, location string, log *slog.Logger, opts ...config.Option) (*config.Config, aws.Config, error) {
	cfg, err := readConfig(ctx, location, log, opts...)
	if err != nil {
		return nil, aws.Config{}, err
	}
	ac, err := awsConfig(ctx, cfg.Credentials)
	if err != nil {
		return nil, aws.Config{}, err
	}
	return cfg, ac, nil
}

// readConfig reads and validates the config and logs its warnings. It
// touches AWS only to read an s3:// location (through the default chain),
// so -dry-run and rin route work offline, whatever AWS_PROFILE says.
func readConfig(ctx context.Context, location string, log *slog.Logger, opts ...config.Option) (*config.Config, error) {
	getter := func(ctx context.Context, bucket, key string) ([]byte, error) {
		base, err := awsConfig(ctx, config.Credentials{})
		if err != nil {
			return nil, err
		}
		out, err := newS3(base).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			return nil, err
		}
		defer out.Body.Close()
		return io.ReadAll(io.LimitReader(out.Body, 16<<20))
	}
	cfg, err := config.Load(ctx, location, append([]config.Option{config.WithS3Getter(getter)}, opts...)...)
	if err != nil {
		return nil, err
	}
	for _, w := range cfg.Warnings {
		log.Warn("config: " + w)
	}
	return cfg, nil
}

// awsConfig is the AWS SDK config: the default chain, or the config's
// static keys. Endpoints come from the standard AWS settings
// (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_S3, ...).
func awsConfig(ctx context.Context, c config.Credentials) (aws.Config, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if c.AWSRegion != "" {
		opts = append(opts, awsconfig.WithRegion(c.AWSRegion))
	}
	if c.HasKeys() {
		opts = append(opts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(c.AWSAccessKeyID, c.AWSSecretAccessKey, "")))
	}
	ac, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return ac, fmt.Errorf("AWS config: %w", err)
	}
	// Without this, a response can break after SQS has put its messages
	// in flight (hidden for the visibility timeout) or after the Data API
	// has started a statement (a retry submits it again): see httpbody.
	ac.HTTPClient = httpbody.Buffered(keepConns(ac.HTTPClient))
	return ac, nil
}

// idleConnsPerHost is how many idle connections to one AWS endpoint the
// HTTP client keeps for reuse. The SDK's default is 10, fewer than rin
// has open to SQS at once (the receivers' long polls, 8 concurrent
// deletes, 8 concurrent visibility changes, the depth poll): every
// connection over 10 was closed after its request, and the next request
// paid a new TCP and TLS handshake, tens of milliseconds against a region.
const idleConnsPerHost = 64

// keepConns raises the client's idle connections per host, on the SDK's
// default client (next nil, the usual case) or on one the SDK built from
// the shared config (a custom CA bundle). A client of another kind is
// left as it is.
func keepConns(next aws.HTTPClient) aws.HTTPClient {
	keep := func(t *http.Transport) { t.MaxIdleConnsPerHost = max(t.MaxIdleConnsPerHost, idleConnsPerHost) }
	switch c := next.(type) {
	case nil:
		return awshttp.NewBuildableClient().WithTransportOptions(keep)
	case *awshttp.BuildableClient:
		return c.WithTransportOptions(keep)
	}
	return next
}

// newS3 uses path-style addressing when an endpoint is configured: local
// emulators (and most S3-compatible stores) do not serve virtual hosts.
// Whether one is, the SDK decides from its own settings (AWS_ENDPOINT_URL,
// AWS_ENDPOINT_URL_S3, the shared config's endpoint_url, ...) before the
// options run: rin reads none of them itself.
func newS3(ac aws.Config) *s3.Client {
	return s3.NewFromConfig(ac, func(o *s3.Options) {
		o.UsePathStyle = o.BaseEndpoint != nil
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	})
}

// run starts the engine and returns when it stops.
func (d *daemon) run(ctx context.Context, batch bool) error {
	cfg := d.cfg
	j, err := journal.Open(cfg.Journal.Path, journal.Options{})
	if err != nil {
		return err
	}
	defer j.Close()
	if from := j.UpgradedFrom(); from > 0 {
		d.log.Info("journal upgraded", "path", cfg.Journal.Path, "from_schema", from, "to_schema", journal.SchemaVersion)
	}

	queue, err := sqsx.Open(ctx, d.sqs, cfg.QueueName, sqsx.WithLogger(d.log))
	if err != nil {
		return err
	}
	// Retention: rin warns before SQS deletes messages it still holds.
	retention, err := queue.Retention(ctx)
	if err != nil {
		d.log.Warn("cannot read the queue's retention period; no warning will come before SQS expires old messages (grant sqs:GetQueueAttributes)", "err", err)
	}
	copier, closeCopier := newCopier(cfg, d.aws, d.log)
	defer closeCopier()

	opts := fsm.OptionsFromConfig(cfg)
	opts.Receive.Retention = retention
	opts.BatchMode, opts.Logger = batch, d.log
	engine := fsm.New(j, queue, cfg, copier, opts)

	// Admin interface and journal retention (daemon_admin.go).
	stopAdmin, err := d.startAdmin(ctx, j, engine)
	if err != nil {
		return err
	}
	defer stopAdmin()

	d.log.Info("rin started", "version", Version, "config", cfg.Source, "queue", cfg.QueueName, "journal", cfg.Journal.Path, "targets", len(cfg.Targets), "batch_mode", batch)
	start := time.Now()
	err = engine.Run(ctx)
	s := engine.Stats()
	d.log.Info("rin stopped", "seconds", time.Since(start).Round(time.Millisecond).Seconds(),
		"messages", s.Messages, "jobs", s.JobsAdmitted, "copied", s.Copied, "failed", s.Failed,
		"duplicates", s.Duplicates, "rejected", s.Rejected, "pending", s.Pending)
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// newLogger builds the process logger. Attributes whose names say they are
// secrets are masked as a last line of defence; rin never logs them on
// purpose.
func newLogger(w io.Writer, debug bool, format string) *slog.Logger {
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		switch strings.ToLower(a.Key) {
		case "password", "secret", "secret_access_key", "aws_secret_access_key", "session_token", "token", "credentials":
			return slog.String(a.Key, "[REDACTED]")
		}
		return a
	}}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
