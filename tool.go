package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rinhq/rin/admin"
	"github.com/rinhq/rin/backfill"
	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/redshift"
)

// What rin backfill and rin reconcile share: their common flags, the
// config with its AWS clients and Copier (for the ledger), S3 clients in
// each bucket's region, and the running rin, if one answers on the socket.

// toolFlags are the flags both commands take.
type toolFlags struct {
	config       string
	since, until timeFlag
	versions     string
	debug        bool
	logFormat    string
}

func (f *toolFlags) register(fs *flag.FlagSet, getenv func(string) string) {
	def := getenv("RIN_CONFIG")
	if def == "" {
		def = "config.yaml"
	}
	fs.StringVar(&f.config, "config", def, "rin's config: a path, file://, http(s):// or s3://bucket/key URL (RIN_CONFIG)")
	fs.StringVar(&f.config, "c", def, "shorthand for -config")
	fs.Var(&f.since, "since", "only objects last modified at or after this: a time (2026-11-01, RFC 3339) or an age (7d, 36h)")
	fs.Var(&f.until, "until", "only objects last modified before this: a time or an age")
	fs.StringVar(&f.versions, "versions", "auto", "list object versions (versioned buckets, whose events carry versionId): auto (ask GetBucketVersioning), on or off")
	fs.BoolVar(&f.debug, "debug", false, "debug logs")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
}

// parseSources parses flags and the prefixes to list (s3://bucket/prefix),
// in any order: flags may follow the prefix.
func parseSources(fs *flag.FlagSet, args []string) ([]backfill.Source, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		pos, args = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	if len(pos) == 0 {
		return nil, fmt.Errorf("%s: give the prefix to list, as s3://bucket/prefix/", fs.Name())
	}
	var out []backfill.Source
	for _, a := range pos {
		s, err := backfill.ParseSource(a)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fs.Name(), err)
		}
		out = append(out, s)
	}
	return out, nil
}

// timeFlag is a point in time given as a date, an RFC 3339 time, or an age
// in rin's duration syntax (7d, 36h: that long ago).
type timeFlag struct{ t time.Time }

func (f *timeFlag) String() string {
	if f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339)
}

func (f *timeFlag) Set(s string) error {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			f.t = t
			return nil
		}
	}
	d, err := config.ParseDuration(s)
	if err != nil || d < 0 {
		return fmt.Errorf("%q: want a time (2026-11-01, 2026-11-01T12:00:00Z) or an age (7d, 36h)", s)
	}
	f.t = time.Now().Add(-d.D())
	return nil
}

// tool is a loaded config with what both commands reach through it.
type tool struct {
	cfg     *config.Config
	ac      aws.Config
	log     *slog.Logger
	copier  fsm.Copier
	closeFn func()
	regions *redshift.BucketRegions

	mu      sync.Mutex
	clients map[string]*s3.Client // by region
}

// openTool loads the config (no queue_name needed) and builds the clients.
func openTool(ctx context.Context, f toolFlags, log *slog.Logger) (*tool, error) {
	cfg, ac, err := loadConfig(ctx, f.config, log, config.WithQueueOptional())
	if err != nil {
		return nil, err
	}
	copier, closeCopier := newCopier(cfg, ac, log)
	t := &tool{cfg: cfg, ac: ac, log: log, copier: copier, closeFn: closeCopier,
		regions: redshift.NewBucketRegions(newS3(ac)), clients: map[string]*s3.Client{}}
	for _, tg := range cfg.Targets {
		if tg.S3.Region != "" && tg.S3.Bucket != "" {
			t.regions.Pin(tg.S3.Bucket, tg.S3.Region)
		}
	}
	return t, nil
}

func (t *tool) close() { t.closeFn() }

// listOptions are the listing's options from the flags.
func (t *tool) listOptions(f toolFlags) backfill.ListOptions {
	return backfill.ListOptions{Since: f.since.t, Until: f.until.t, Versions: backfill.Versions(f.versions), Skip: t.cfg.IsManifestKey}
}

// ledger returns endpoint's ledger reader, nil with ledger.disabled.
func (t *tool) ledger(endpoint string) (*redshift.LedgerReader, error) {
	l, err := redshift.LedgerFor(t.copier, endpoint)
	if errors.Is(err, redshift.ErrNoLedger) {
		return nil, nil
	}
	return l, err
}

// dialRin returns the running rin's admin client, nil when no rin answers
// on the config's socket (or the admin interface is disabled).
func (t *tool) dialRin(ctx context.Context) (*admin.Client, error) {
	if t.cfg.Admin.Disabled {
		return nil, nil
	}
	c, err := admin.Dial(ctx, t.cfg.Admin.Socket)
	switch {
	case errors.Is(err, admin.ErrNotRunning):
		return nil, nil
	case err != nil:
		return nil, err
	}
	if !sameFile(c.Health().Journal, t.cfg.Journal.Path) {
		c.Close()
		return nil, fmt.Errorf("the rin on %s (pid %d) holds the journal %s, not the config's %s", t.cfg.Admin.Socket, c.Health().PID, c.Health().Journal, t.cfg.Journal.Path)
	}
	return c, nil
}

func sameFile(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

// client is an S3 client in bucket's region: a listing signed for another
// region is refused (301).
func (t *tool) client(ctx context.Context, bucket string) *s3.Client {
	region, err := t.regions.Region(ctx, bucket)
	if err != nil {
		t.log.Warn("cannot find the bucket's region; listing in the config's region", "bucket", bucket, "region", t.ac.Region, "err", err)
		region = t.ac.Region
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.clients[region]
	if c == nil {
		rc := t.ac.Copy()
		rc.Region = region
		c = newS3(rc)
		t.clients[region] = c
	}
	return c
}

// lister is backfill.S3API over the clients of each bucket's region.
type lister struct{ t *tool }

func (l lister) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	return l.t.client(ctx, aws.ToString(in.Bucket)).ListObjectsV2(ctx, in, opts...)
}

func (l lister) ListObjectVersions(ctx context.Context, in *s3.ListObjectVersionsInput, opts ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error) {
	return l.t.client(ctx, aws.ToString(in.Bucket)).ListObjectVersions(ctx, in, opts...)
}

func (l lister) GetBucketVersioning(ctx context.Context, in *s3.GetBucketVersioningInput, opts ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error) {
	return l.t.client(ctx, aws.ToString(in.Bucket)).GetBucketVersioning(ctx, in, opts...)
}

// isTerminal reports whether w is a terminal (progress bar, not lines).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// toolLogger is the commands' logger: warnings only on a terminal, where
// the progress bar says what is going on; info elsewhere; debug with -debug.
func toolLogger(w io.Writer, f toolFlags) *slog.Logger {
	log := newLogger(w, f.debug, f.logFormat)
	if !f.debug && isTerminal(w) {
		return slog.New(levelFloor{log.Handler(), slog.LevelWarn})
	}
	return log
}

// levelFloor drops records below min.
type levelFloor struct {
	slog.Handler
	min slog.Level
}

func (h levelFloor) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelFloor) WithAttrs(a []slog.Attr) slog.Handler {
	return levelFloor{h.Handler.WithAttrs(a), h.min}
}

func (h levelFloor) WithGroup(name string) slog.Handler {
	return levelFloor{h.Handler.WithGroup(name), h.min}
}
