package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/redshift"
)

// RouteCommand is `rin route -config C s3://bucket/key ...`: which targets
// each key goes to and the table each resolves to, as rin would route its
// S3 event. Like -dry-run it reads the config and nothing else, so it can
// check a migrated config offline against keys from the old bucket.
type RouteCommand struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

// errUnloadable is returned when some key would end in a failed job: a
// script checking a config before going live learns it from the status.
var errUnloadable = errors.New("some keys cannot be loaded by a target that matches them")

// Run parses args, prints the routes of each key, and fails when a key
// would end in a failed job (a capture that makes an unusable table name).
func (c *RouteCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("route", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	def := c.Getenv("RIN_CONFIG")
	if def == "" {
		def = "config.yaml"
	}
	var location string
	fs.StringVar(&location, "config", def, "rin's config: a path, file://, http(s):// or s3://bucket/key URL (RIN_CONFIG)")
	fs.StringVar(&location, "c", def, "shorthand for -config")
	fs.Usage = func() {
		fmt.Fprintf(c.Stderr, "Usage: rin route [flags] s3://bucket/key ...\n\n"+
			"Shows which targets each object goes to and the table each resolves to, as rin routes the object's\n"+
			"S3 event. Give keys as stored in S3, not URL-encoded as events carry them. Reads only the config:\n"+
			"no AWS call (unless the config itself is on S3). Exit status 1 when a key matches a target that\n"+
			"cannot load it.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	var uris []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		uris, args = append(uris, fs.Arg(0)), fs.Args()[1:]
	}
	if len(uris) == 0 {
		fs.Usage()
		return fmt.Errorf("route: give the objects as s3://bucket/key")
	}
	cfg, err := readConfig(ctx, location, newLogger(c.Stderr, false, "text"), config.WithQueueOptional())
	if err != nil {
		return err
	}
	return printRoutes(c.Stdout, cfg, uris)
}

// printRoutes writes the routes of each s3:// URI.
func printRoutes(w io.Writer, cfg *config.Config, uris []string) error {
	unloadable := false
	for i, uri := range uris {
		bucket, key, err := splitS3URI(uri)
		if err != nil {
			return err
		}
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "s3://%s/%s\n", bucket, key)
		if cfg.IsManifestKey(bucket, key) {
			fmt.Fprintln(w, "  under rin's manifest prefix: never routed (rin writes its manifests there)")
			continue
		}
		routes := cfg.Route(bucket, key)
		if len(routes) == 0 {
			fmt.Fprintln(w, "  matches no target: rin ignores it, with a warning")
			continue
		}
		for _, r := range routes {
			switch {
			case r.Discard:
				fmt.Fprintf(w, "  %s  discard: nothing is loaded, and no later target is tried\n", r.Name)
			case r.Err != nil:
				unloadable = true
				fmt.Fprintf(w, "  %s  cannot load: %v\n    (this job is parked failed; the object's other targets load)\n", r.Name, r.Err)
			default:
				fmt.Fprintf(w, "  %s  load into %s on %s\n", r.Name, redshift.QuoteTable(r.Schema, r.Table), r.Redshift.Endpoint())
			}
			if r.Break && !r.Discard {
				fmt.Fprintf(w, "    break: no later target is tried\n")
			}
		}
	}
	if unloadable {
		return errUnloadable
	}
	return nil
}

// splitS3URI splits s3://bucket/key. The key is taken literally.
func splitS3URI(uri string) (bucket, key string, err error) {
	rest, ok := strings.CutPrefix(uri, "s3://")
	bucket, key, _ = strings.Cut(rest, "/")
	if !ok || bucket == "" || key == "" {
		return "", "", fmt.Errorf("%q: want s3://bucket/key", uri)
	}
	return bucket, key, nil
}
