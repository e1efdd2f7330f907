package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/redshift"
)

// printDryRun is -dry-run: every target as resolved, with the COPY rin
// would send for it, secrets masked. It needs nothing but the config, so
// it runs offline: on a laptop without AWS credentials, or with an
// AWS_PROFILE that only exists on the servers, while migrating a config.
func printDryRun(w io.Writer, cfg *config.Config) error {
	queue := cfg.QueueName
	if queue == "" {
		queue = "(none: Lambda mode only, whose event source mapping delivers the messages; rin itself refuses this config)"
	}
	fmt.Fprintf(w, "config:  %s\nqueue:   %s\njournal: %s\nledger:  %s\n", cfg.Source, queue, cfg.Journal.Path, ledgerLine(cfg.Ledger))
	for i := range cfg.Targets {
		t := &cfg.Targets[i]
		fmt.Fprintf(w, "\n%s\n  match:    %s\n", t.Name(), matchLine(t))
		if t.Discard {
			fmt.Fprintln(w, "  action:   discard (load nothing, stop matching)")
			continue
		}
		action := "load"
		if t.Break {
			action = "load, then stop matching (break)"
		}
		fmt.Fprintf(w, "  action:   %s\n  table:    %s\n  endpoint: %s\n", action, tableLine(t), t.Redshift.Endpoint())
		if t.S3.Region == "" && config.ColumnarFormat(t.SQLOption) == "" {
			fmt.Fprintln(w, "  region:   none set: rin finds the bucket's and adds REGION when it is not the cluster's")
		}
		fmt.Fprintf(w, "  copy:     %s\n", copyPreview(cfg, t).Redacted())
	}
	return nil
}

// copyPreview is the COPY of a batch of t's objects, the batch id left as
// <batch_id>. A key_regexp target's table stays as written ($1, $2): rin
// fills it in from each key.
func copyPreview(cfg *config.Config, t *config.Target) redshift.CopySpec {
	spec := redshift.CopySpec{Schema: t.Redshift.Schema, Table: t.Redshift.Table, Region: t.S3.Region, SQLOption: strings.TrimSpace(t.SQLOption)}
	if t.UsesManifest() {
		spec.From, spec.Manifest = redshift.ManifestURI(cfg.Manifest, t.S3.Bucket, "<batch_id>"), true
	} else {
		spec.From = "s3://" + t.S3.Bucket + "/<key>"
	}
	return spec
}

func matchLine(t *config.Target) string {
	if t.S3.KeyRegexp != "" && t.S3.KeyPrefix == "" {
		return fmt.Sprintf("s3://%s/ keys matching %s (key_regexp)", t.S3.Bucket, t.S3.KeyRegexp)
	}
	return fmt.Sprintf("s3://%s/%s* (key_prefix)", t.S3.Bucket, t.S3.KeyPrefix)
}

func tableLine(t *config.Target) string {
	name := redshift.QuoteTable(t.Redshift.Schema, t.Redshift.Table)
	switch {
	case t.UsesCaptures():
		return name + " (filled in from each key; see rin route)"
	case t.Redshift.Schema == "":
		return name + " (schema: the user's search_path)"
	}
	return name
}

func ledgerLine(l config.Ledger) string {
	if l.Disabled {
		return "disabled (a COPY whose COMMIT reply is lost may load twice)"
	}
	return l.Schema + "." + l.Table
}

// dryRun is -dry-run, with -key the routes of those objects instead.
func (c *RunCommand) dryRun(ctx context.Context, log *slog.Logger) error {
	// A Lambda mode config has no queue_name: it is shown, not refused.
	cfg, err := readConfig(ctx, c.ConfigPath, log, config.WithQueueOptional())
	if err != nil {
		return err
	}
	if len(c.DryRunKeys) > 0 {
		return printRoutes(c.Stdout, cfg, c.DryRunKeys)
	}
	return printDryRun(c.Stdout, cfg)
}

// keyList is a repeatable flag.
type keyList []string

func (k *keyList) String() string { return strings.Join(*k, " ") }

func (k *keyList) Set(s string) error {
	*k = append(*k, s)
	return nil
}
