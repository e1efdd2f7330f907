package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rinhq/rin/config"
)

// DoctorCommand is `rin doctor -config C`: before going live, it checks
// each thing rin needs, in the order rin meets them — the config, the
// queue, the buckets and their regions, each Redshift login, each target
// table and its ledger, a manifest round trip in each bucket, and a COPY
// of zero rows per target — and says which one is wrong and how to fix
// it. It changes nothing but a few objects under the manifest prefix,
// which it deletes again. Exit status 0 when every check passes
// (warnings included), 1 otherwise, naming the target and table.
type DoctorCommand struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

// doctor is one run's config, AWS settings and report.
type doctor struct {
	cfg     *config.Config
	aws     aws.Config
	r       *report
	timeout time.Duration // per check
	log     *slog.Logger
}

// Run parses args and runs every check.
func (c *DoctorCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	def := c.Getenv("RIN_CONFIG")
	if def == "" {
		def = "config.yaml"
	}
	var (
		location string
		timeout  time.Duration
		debug    bool
	)
	fs.StringVar(&location, "config", def, "rin's config: a path, file://, http(s):// or s3://bucket/key URL (RIN_CONFIG)")
	fs.StringVar(&location, "c", def, "shorthand for -config")
	fs.DurationVar(&timeout, "timeout", 30*time.Second, "time allowed to each check")
	fs.BoolVar(&debug, "debug", false, "debug logs (the statements doctor sends, credentials masked)")
	fs.Usage = func() {
		fmt.Fprintf(c.Stderr, "Usage: rin doctor [flags]\n\n"+
			"Checks, in order, what rin needs: the config, the SQS queue and its settings, the S3 buckets and\n"+
			"their regions, each Redshift login, each target table (exists, INSERT allowed) and its ledger, a\n"+
			"manifest write/read/delete in each bucket, and a COPY of zero rows per target. Says what is wrong\n"+
			"and how to fix it. Exit status 0 when nothing failed, 1 otherwise.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("doctor: unexpected argument %q (flags only)", fs.Arg(0))
	}
	r := &report{w: c.Stdout}
	log := newLogger(c.Stderr, debug, "text")
	// Lambda mode runs without queue_name: the queue check says so
	// rather than the config check refusing it.
	cfg, err := readConfig(ctx, location, log, config.WithQueueOptional())
	if err != nil {
		r.fail("config", location, err.Error(), "correct the config: the message names the file, the line and the key")
		return r.done()
	}
	r.ok("config", cfg.Source, fmt.Sprintf("valid; %d targets, %d Redshift endpoints", len(cfg.Targets), len(cfg.Endpoints())))
	ac, err := awsConfig(ctx, cfg.Credentials)
	if err != nil {
		r.fail("aws", "credentials", err.Error(), "check AWS_PROFILE, AWS_REGION and the config's credentials section")
		return r.done()
	}
	d := &doctor{cfg: cfg, aws: ac, r: r, timeout: timeout, log: log}
	d.checkQueue(ctx)
	regions := d.checkBuckets(ctx)
	dbs := d.checkLogins(ctx)
	defer dbs.close()
	tables := d.checkTables(ctx, dbs)
	d.checkLedgers(ctx, dbs, tables)
	manifests := d.checkManifests(ctx, regions)
	d.checkCopies(ctx, dbs, tables, regions, manifests)
	return r.done()
}

// bounded runs fn with the per-check timeout.
func (d *doctor) bounded(ctx context.Context, fn func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	return fn(ctx)
}
