package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/redshift"
)

// checkCopies runs, per target whose table is known, a COPY of zero rows
// through everything a real load uses: the COPY credentials reading the
// bucket, the REGION, the manifest, the sql_option against the table.
//
// An empty manifest would be simplest, but Redshift ends a COPY that
// finds no file with an error ("COPY will terminate if no files are
// found"). So doctor writes one empty object (a gzip stream of nothing
// under GZIP) and a manifest listing it, both under the manifest prefix
// (rin never routes objects there), and runs the COPY with NOLOAD — which
// Redshift and the simulator both accept with MANIFEST, and which checks
// the input without loading it — inside a transaction it rolls back, so
// that nothing, not even the load's bookkeeping, stays. Parquet and ORC
// refuse NOLOAD, and an empty BZIP2, ZSTD or LZOP stream is more than
// doctor writes: those targets are skipped, saying so.
func (d *doctor) checkCopies(ctx context.Context, dbs endpointDBs, tables map[int]bool, regions bucketRegion, manifests map[string]bool) {
	creds := redshift.CopyCredentials{
		IAMRole: d.cfg.Credentials.AWSIAMRole, AccessKeyID: d.cfg.Credentials.AWSAccessKeyID,
		SecretAccessKey: d.cfg.Credentials.AWSSecretAccessKey, Provider: d.aws.Credentials,
	}
	for i := range d.cfg.Targets {
		t := &d.cfg.Targets[i]
		if t.Discard || t.UsesCaptures() {
			continue // said by the table check
		}
		subject := targetTable(t)
		sample, why := emptySample(t.SQLOption)
		db := dbs[t.Redshift.Endpoint()]
		mb := d.manifestBucket(t.S3.Bucket)
		switch {
		case why != "":
			d.r.skip("copy", subject, why)
		case db == nil || !tables[i]:
			d.r.skip("copy", subject, "its login or table check did not pass")
		case regions[t.S3.Bucket] == "" || regions[mb] == "" || (t.UsesManifest() && !manifests[mb]):
			d.r.skip("copy", subject, "its bucket or manifest check did not pass")
		default:
			if err := d.copyZero(ctx, db, t, creds, sample, regions); err != nil {
				d.r.fail("copy", subject, err.Error(), copyFix(t, err))
				continue
			}
			d.r.ok("copy", subject, "a COPY (NOLOAD, rolled back) of an empty object through a manifest passed")
		}
	}
}

// copyZero writes the sample and its manifest, COPYs them, and deletes
// both.
func (d *doctor) copyZero(ctx context.Context, db redshift.Session, t *config.Target, creds redshift.CopyCredentials, sample []byte, regions bucketRegion) error {
	bucket, mb := t.S3.Bucket, d.manifestBucket(t.S3.Bucket)
	id := "doctor-" + randomID()
	prefix := d.cfg.Manifest.Prefix
	sampleKey := strings.TrimSuffix(redshift.ManifestKey(prefix, id), ".manifest") + ".empty"
	manifestKey := redshift.ManifestKey(prefix, id)
	client, mclient := d.s3In(regions[bucket]), d.s3In(regions[mb])

	spec := redshift.CopySpec{Schema: t.Redshift.Schema, Table: t.Redshift.Table, SQLOption: noload(t.SQLOption)}
	if config.ColumnarFormat(t.SQLOption) == "" {
		spec.Region = t.S3.Region
		if reg := regions[bucket]; spec.Region == "" && reg != d.clusterRegion(t.Redshift) {
			spec.Region = reg
		}
	}
	return d.bounded(ctx, func(ctx context.Context) error {
		if err := redshift.PutObject(ctx, client, d.cfg.Manifest, bucket, sampleKey, sample); err != nil {
			return err
		}
		defer d.remove(client, bucket, sampleKey)
		spec.From = "s3://" + bucket + "/" + sampleKey
		if t.UsesManifest() || mentionsManifest(t.SQLOption) {
			body := fmt.Sprintf(`{"entries":[{"url":%q,"mandatory":true}]}`+"\n", spec.From)
			if err := redshift.PutObject(ctx, mclient, d.cfg.Manifest, mb, manifestKey, []byte(body)); err != nil {
				return err
			}
			defer d.remove(mclient, mb, manifestKey)
			spec.From, spec.Manifest = "s3://"+mb+"/"+manifestKey, t.UsesManifest()
		}
		secret, err := creds.Clause(ctx)
		if err != nil {
			return err
		}
		d.log.Debug("doctor: COPY", "target", t.Name(), "sql", spec.Redacted())
		if err := db.RolledBack(ctx, spec.SQL(secret)); err != nil {
			return fmt.Errorf("%s: %w", spec.Redacted(), err)
		}
		return nil
	})
}

var (
	sqlLiteral = regexp.MustCompile(`'(?:[^']|'')*'`)
	sqlKeyword = regexp.MustCompile(`(?i)\b(GZIP|BZIP2|ZSTD|LZOP|NOLOAD|MANIFEST)\b`)
)

// emptyGzip is a gzip stream of nothing: under GZIP an empty file is not
// valid input, this is, and holds no row.
func emptyGzip() []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Close()
	return b.Bytes()
}

// keywords are the COPY keywords of sqlOption doctor cares about, string
// literals left out.
func keywords(sqlOption string) map[string]bool {
	out := map[string]bool{}
	for _, k := range sqlKeyword.FindAllString(sqlLiteral.ReplaceAllString(sqlOption, "''"), -1) {
		out[strings.ToUpper(k)] = true
	}
	return out
}

func mentionsManifest(sqlOption string) bool { return keywords(sqlOption)["MANIFEST"] }

// emptySample is an object of no rows in the target's format, or why
// doctor cannot write one.
func emptySample(sqlOption string) ([]byte, string) {
	if f := config.ColumnarFormat(sqlOption); f != "" {
		return nil, f + ": Redshift refuses NOLOAD for " + f + ", and an empty " + f + " file needs the table's schema; the table, ledger and bucket checks cover the rest"
	}
	k := keywords(sqlOption)
	for _, c := range []string{"BZIP2", "ZSTD", "LZOP"} {
		if k[c] {
			return nil, "doctor writes no empty " + c + " object; the table, ledger and manifest checks cover the rest"
		}
	}
	if k["GZIP"] {
		return emptyGzip(), ""
	}
	return []byte{}, ""
}

// noload adds NOLOAD to a sql_option that lacks it.
func noload(sqlOption string) string {
	o := strings.TrimSpace(sqlOption)
	if keywords(o)["NOLOAD"] {
		return o
	}
	return strings.TrimSpace(o + " NOLOAD")
}

// copyFix says what to do about a failed COPY, from what Redshift reports.
func copyFix(t *config.Target, err error) string {
	s := err.Error()
	switch {
	case strings.Contains(s, "not authorized to assume"):
		return "associate the IAM role in credentials.aws_iam_role with the cluster, and let it trust redshift.amazonaws.com"
	case strings.Contains(s, "Access Denied") || strings.Contains(s, "AccessDenied") || strings.Contains(s, "Status 403"):
		return fmt.Sprintf("the COPY credentials (aws_iam_role, or rin's keys) need s3:GetObject on arn:aws:s3:::%s/* and on the manifest prefix", t.S3.Bucket)
	case strings.Contains(s, "PermanentRedirect") || strings.Contains(s, "Status 301"):
		return "set s3.region to the bucket's region"
	case strings.Contains(s, "InvalidAccessKeyId") || strings.Contains(s, "SignatureDoesNotMatch") || strings.Contains(s, "ExpiredToken"):
		return "the COPY credentials are refused: check credentials.aws_access_key_id/aws_secret_access_key or the default chain's"
	case strings.Contains(s, "permission denied"):
		return fmt.Sprintf("GRANT INSERT ON %s TO %s", redshift.QuoteTable(t.Redshift.Schema, t.Redshift.Table), t.Redshift.User)
	}
	return fmt.Sprintf("correct %s.sql_option (or the table) so that Redshift accepts the COPY above", t.Name())
}
