package redshiftsim

import (
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// Redshift reads COPY input from S3 in one of two ways: a URI that is a key
// prefix (every object whose key starts with it, so "a/1" also loads "a/10"),
// or a manifest listing exact objects. The simulator reproduces both, and the
// errors Redshift gives when the objects are not there, because rin's
// correctness depends on loading exactly the files it means to load.

// maxObjectSize bounds a single (decompressed) object so that a runaway test
// cannot exhaust memory.
const maxObjectSize = 1 << 30

// s3Object is one downloaded, decompressed input file.
type s3Object struct {
	url    string
	bucket string
	key    string
	data   []byte
	length int64 // the manifest's meta.content_length, -1 when none
}

func parseS3URL(u string) (bucket, key string, err error) {
	rest, ok := strings.CutPrefix(u, "s3://")
	if !ok {
		return "", "", errInternal("redshiftsim: unsupported data source '%s' (only s3:// is simulated)", u)
	}
	bucket, key, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", errInternal("Invalid S3 URI '%s'", u)
	}
	return bucket, key, nil
}

// s3Read is what a COPY asks of S3.
type s3Read int

const (
	readManifestFile s3Read = iota
	readListing             // key is the prefix listed
	readObject
)

// s3Gate is consulted before every S3 read and returns the error the COPY
// fails with, or nil (S3 faults, s3faults.go).
type s3Gate func(bucket, key string, what s3Read) error

// fetchInputs downloads and decompresses every object the COPY names.
func fetchInputs(ctx context.Context, client Objects, spec *copySpec, gate s3Gate) ([]s3Object, error) {
	if client == nil {
		return nil, errInternal("redshiftsim: no S3 client configured")
	}
	bucket, key, err := parseS3URL(spec.uri)
	if err != nil {
		return nil, err
	}
	var entries []inputEntry
	if spec.manifest {
		if err := gate(bucket, key, readManifestFile); err != nil {
			return nil, err
		}
		entries, err = readManifest(ctx, client, bucket, key, spec.uri)
	} else {
		if err := gate(bucket, key, readListing); err != nil {
			return nil, err
		}
		entries, err = listPrefix(ctx, client, bucket, key)
	}
	if err != nil {
		return nil, err
	}
	if spec.manifest && spec.format == formatParquet {
		if err := columnarManifestCheck(entries); err != nil {
			return nil, err
		}
	}
	objs := make([]s3Object, 0, len(entries))
	for _, e := range entries {
		u := e.url
		b, k, err := parseS3URL(u)
		if err != nil {
			return nil, err
		}
		if err := gate(b, k, readObject); err != nil {
			return nil, err
		}
		raw, err := client.Get(ctx, b, k)
		if errors.Is(err, ErrNoSuchObject) && spec.manifest {
			if !e.mandatory {
				continue
			}
			return nil, errInternal("Manifest file entry '%s' is mandatory but the S3 object does not exist", u)
		}
		if err != nil {
			return nil, errInternal("S3ServiceException: reading '%s': %v", u, err)
		}
		data, err := decompress(spec.compression, raw)
		if err != nil {
			return nil, errInternal("Failed to decompress '%s' as %s: %v", u, strings.ToUpper(spec.compression), err)
		}
		objs = append(objs, s3Object{url: u, bucket: b, key: k, data: data, length: e.length})
	}
	return objs, nil
}

// inputEntry is one object a COPY reads.
type inputEntry struct {
	url       string
	mandatory bool
	hasMeta   bool  // the manifest entry has a "meta" object
	length    int64 // its content_length, -1 when absent (or not a manifest)
}

// listPrefix returns all objects under prefix, in key order.
func listPrefix(ctx context.Context, client Objects, bucket, prefix string) ([]inputEntry, error) {
	keys, err := client.List(ctx, bucket, prefix)
	if errors.Is(err, ErrNoSuchObject) {
		return nil, errInternal("The specified S3 prefix '%s' does not exist", prefix)
	}
	if err != nil {
		return nil, errInternal("S3ServiceException: listing s3://%s/%s: %v", bucket, prefix, err)
	}
	if len(keys) == 0 {
		return nil, errInternal("The specified S3 prefix '%s' does not exist", prefix)
	}
	urls := make([]inputEntry, len(keys))
	for i, k := range keys {
		urls[i] = inputEntry{url: "s3://" + bucket + "/" + k, mandatory: true, length: -1}
	}
	return urls, nil
}

// manifest is Redshift's COPY manifest file format.
type manifest struct {
	Entries []struct {
		URL       string `json:"url"`
		Mandatory bool   `json:"mandatory"`
		Meta      *struct {
			ContentLength *int64 `json:"content_length"`
		} `json:"meta"` // required for columnar formats
	} `json:"entries"`
}

// readManifest returns the manifest's entries.
func readManifest(ctx context.Context, client Objects, bucket, key, uri string) ([]inputEntry, error) {
	raw, err := client.Get(ctx, bucket, key)
	if err != nil {
		if errors.Is(err, ErrNoSuchObject) {
			return nil, errInternal("Problem reading manifest file - S3ServiceException:The specified key does not exist.,Status 404, manifest '%s'", uri)
		}
		return nil, errInternal("Problem reading manifest file '%s': %v", uri, err)
	}
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, errInternal("Manifest file '%s' is not in correct json format: %v", uri, err)
	}
	entries := make([]inputEntry, 0, len(m.Entries))
	for _, e := range m.Entries {
		if e.URL == "" {
			return nil, errInternal("Manifest file '%s' has an entry without url", uri)
		}
		in := inputEntry{url: e.URL, mandatory: e.Mandatory, hasMeta: e.Meta != nil, length: -1}
		if e.Meta != nil && e.Meta.ContentLength != nil {
			in.length = *e.Meta.ContentLength
		}
		entries = append(entries, in)
	}
	return entries, nil
}

// decompress undoes the COPY's compression option. Empty objects stay empty
// (Redshift loads nothing from them rather than failing).
func decompress(kind string, raw []byte) ([]byte, error) {
	if kind == "" || len(raw) == 0 {
		return raw, nil
	}
	var r io.Reader
	switch kind {
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		r = zr
	case "bzip2":
		r = bzip2.NewReader(bytes.NewReader(raw))
	case "zstd":
		zr, err := zstd.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		r = zr
	default:
		return nil, fmt.Errorf("unknown compression %q", kind)
	}
	return readLimited(r, "decompressed object")
}
