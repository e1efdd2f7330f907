package redshiftsim

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/lib/pq"
)

// S3 refusals must reach the client in Redshift's exact words: rin
// classifies them by SQLSTATE and by the status and error code inside.

const (
	ridRe        = `[0-9A-F]{16}`
	extRidRe     = `[A-Za-z0-9+/=]{76}`
	textDenied   = "Access Denied,Status 403,Error AccessDenied"
	textRedirect = "The bucket you are attempting to access must be addressed using the specified endpoint. " +
		"Please send all future requests to this endpoint.,Status 301,Error PermanentRedirect"
	textExpired    = "The provided token has expired.,Status 400,Error ExpiredToken"
	textInvalidKey = "The AWS Access Key Id you provided does not exist in our records.,Status 403,Error InvalidAccessKeyId"
)

// pqError returns err as a server error, failing the test otherwise.
func pqError(t *testing.T, err error) *pq.Error {
	t.Helper()
	var pe *pq.Error
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want a server error", err)
	}
	return pe
}

// wantManifestError checks the manifest form: XX000, no DETAIL.
func wantManifestError(t *testing.T, err error, s3text string) {
	t.Helper()
	pe := pqError(t, err)
	re := regexp.MustCompile("^" + regexp.QuoteMeta("Problem reading manifest file - S3ServiceException:"+s3text) +
		",Rid " + ridRe + ",ExtRid " + extRidRe + ",CanRetry 1$")
	if pe.Code != "XX000" || !re.MatchString(pe.Message) || pe.Detail != "" {
		t.Fatalf("got %s %q detail %q, want XX000 %s", pe.Code, pe.Message, pe.Detail, re)
	}
}

// wantObjectError checks the data-file form: XX000, and Redshift's DETAIL
// block naming what was read. It returns the block's query id.
func wantObjectError(t *testing.T, err error, s3text, context, location string) int {
	t.Helper()
	pe := pqError(t, err)
	msgRe := regexp.MustCompile("^" + regexp.QuoteMeta("S3ServiceException:"+s3text) +
		",Rid (" + ridRe + "),ExtRid " + extRidRe + ",CanRetry 1$")
	m := msgRe.FindStringSubmatch(pe.Message)
	if pe.Code != "XX000" || m == nil {
		t.Fatalf("got %s %q, want XX000 %s", pe.Code, pe.Message, msgRe)
	}
	detailRe := regexp.MustCompile("^" + regexp.QuoteMeta("\n"+
		"  -----------------------------------------------\n"+
		"  error:  S3ServiceException:"+s3text+",Rid "+m[1]+",CanRetry 1\n"+
		"  code:      8001\n"+
		"  context:   "+context+"\n"+
		"  query:     ") + `(\d+)` + regexp.QuoteMeta("\n"+
		"  location:  "+location+"\n"+
		"  process:   query1_123_") + `(\d+) \[pid=\d+\]` + regexp.QuoteMeta("\n"+
		"  -----------------------------------------------\n") + "$")
	d := detailRe.FindStringSubmatch(pe.Detail)
	if d == nil || d[1] != d[2] {
		t.Fatalf("detail = %q\nwant %s", pe.Detail, detailRe)
	}
	q, _ := strconv.Atoi(d[1])
	return q
}

func (e *env) lastCopyID() int {
	e.t.Helper()
	var id int
	if err := e.db.QueryRowContext(e.ctx, "SELECT pg_last_copy_id()").Scan(&id); err != nil {
		e.t.Fatal(err)
	}
	return id
}

func TestDenyS3(t *testing.T) {
	e := newEnv(t)
	tbl := e.table("id int, name text")
	e.put("d/a.json", jsonLines(1))
	e.put("d/b.json", jsonLines(2))
	e.put("m/1.manifest", fmt.Appendf(nil, `{"entries":[{"url":%q,"mandatory":true},{"url":%q,"mandatory":true}]}`, e.url("d/a.json"), e.url("d/b.json")))
	manifestCopy := fmt.Sprintf("COPY %s FROM '%s' JSON 'auto' MANIFEST%s", tbl, e.url("m/1.manifest"), creds)
	exec := func(sql string) error { _, err := e.db.ExecContext(e.ctx, sql); return err }

	e.srv.DenyS3(e.bucket, "m/")
	wantManifestError(t, exec(manifestCopy), textDenied)

	e.srv.AllowS3(e.bucket, "m/")
	e.srv.DenyS3(e.bucket, "d/b")
	q := wantObjectError(t, exec(manifestCopy), textDenied, "S3 key being read : "+e.url("d/b.json"), "table_s3_scanner.cpp:355")
	if got := e.lastCopyID(); got != q {
		t.Fatalf("pg_last_copy_id() = %d, want the failed COPY's %d", got, q)
	}
	// Through a prefix: the listing is allowed, the denied object is not.
	wantObjectError(t, exec(e.copyJSON(tbl, "d/")), textDenied, "S3 key being read : "+e.url("d/b.json"), "table_s3_scanner.cpp:355")
	// A prefix inside the denied one: the listing itself is refused.
	wantObjectError(t, exec(e.copyJSON(tbl, "d/b.")), textDenied, "Listing bucket="+e.bucket+" prefix=d/b.", "s3_utility.cpp:688")

	// The whole bucket, and a hostile key that ends up in the DETAIL.
	e.srv.DenyS3(e.bucket, "")
	evil := `x'); DROP TABLE ` + tbl + `; --`
	e.put(evil, jsonLines(1))
	wantObjectError(t, exec(fmt.Sprintf("COPY %s FROM '%s' JSON 'auto'%s", tbl, e.url(evil)[:len(e.url(""))]+"x''); DROP TABLE "+tbl+"; --", creds)),
		textDenied, "Listing bucket="+e.bucket+" prefix="+evil, "s3_utility.cpp:688")
	if f := e.srv.Faults(); len(f.DeniedS3) != 2 || f.DeniedS3[0] != e.bucket+"/" || f.DeniedS3[1] != e.bucket+"/d/b" {
		t.Fatalf("faults = %+v", f)
	}

	e.srv.ResetFaults()
	e.exec(manifestCopy)
	if n := e.count(tbl); n != 3 {
		t.Fatalf("rows = %d, want 3 (only the last COPY loaded)", n)
	}
}

func TestRegions(t *testing.T) {
	e := newEnv(t)
	east := "rin-east"
	if _, err := e.s3.CreateBucket(e.ctx, &s3.CreateBucketInput{Bucket: aws.String(east)}); err != nil {
		t.Fatal(err)
	}
	tbl := e.table("id int, name text")
	e.put("r/a.json", jsonLines(2))
	e.put("rm/eu.manifest", fmt.Appendf(nil, `{"entries":[{"url":%q,"mandatory":true}]}`, e.url("r/a.json")))
	// A manifest in a us-east-1 bucket listing eu-west-1 objects.
	eastManifest := fmt.Appendf(nil, `{"entries":[{"url":%q,"mandatory":true}]}`, e.url("r/a.json"))
	if _, err := e.s3.PutObject(e.ctx, &s3.PutObjectInput{Bucket: aws.String(east), Key: aws.String("m.manifest"), Body: bytes.NewReader(eastManifest)}); err != nil {
		t.Fatal(err)
	}
	exec := func(sql string) error { _, err := e.db.ExecContext(e.ctx, sql); return err }
	copyFrom := func(uri, opts string) string {
		return fmt.Sprintf("COPY %s FROM '%s' JSON 'auto'%s%s", tbl, uri, opts, creds)
	}

	e.srv.SetBucketRegion(e.bucket, "eu-west-1")
	wantObjectError(t, exec(copyFrom(e.url("r/"), "")), textRedirect, "Listing bucket="+e.bucket+" prefix=r/", "s3_utility.cpp:688")
	wantManifestError(t, exec(copyFrom(e.url("rm/eu.manifest"), " MANIFEST")), textRedirect)
	e.exec(copyFrom(e.url("r/"), " REGION 'eu-west-1'"), copyFrom(e.url("rm/eu.manifest"), " MANIFEST REGION AS 'eu-west-1'"))

	// Every file must be in the COPY's region, the manifest included.
	wantManifestError(t, exec(copyFrom("s3://"+east+"/m.manifest", " MANIFEST REGION 'eu-west-1'")), textRedirect)
	wantObjectError(t, exec(copyFrom("s3://"+east+"/m.manifest", " MANIFEST")), textRedirect,
		"S3 key being read : "+e.url("r/a.json"), "table_s3_scanner.cpp:355")

	e.srv.SetClusterRegion("eu-west-1")
	// Buckets not placed anywhere follow the cluster.
	e.exec(copyFrom(e.url("r/"), ""), copyFrom("s3://"+east+"/m.manifest", " MANIFEST"))
	if f := e.srv.Faults(); f.ClusterRegion != "eu-west-1" || f.BucketRegions[e.bucket] != "eu-west-1" {
		t.Fatalf("faults = %+v", f)
	}

	e.srv.ResetFaults()
	e.exec(copyFrom(e.url("r/"), ""), copyFrom("s3://"+east+"/m.manifest", " MANIFEST"))
	if n := e.count(tbl); n != 12 {
		t.Fatalf("rows = %d, want 12", n)
	}
}

func TestCredentialFaults(t *testing.T) {
	e := newEnv(t)
	tbl := e.table("id int, name text")
	e.put("c/a.json", jsonLines(1))
	e.put("cm/1.manifest", fmt.Appendf(nil, `{"entries":[{"url":%q,"mandatory":true}]}`, e.url("c/a.json")))
	exec := func(sql string) error { _, err := e.db.ExecContext(e.ctx, sql); return err }
	withCreds := func(uri, opts, auth string) string {
		return fmt.Sprintf("COPY %s FROM '%s' %s JSON 'auto'%s", tbl, uri, auth, opts)
	}
	tokenCreds := "CREDENTIALS 'aws_access_key_id=AKIAGOOD;aws_secret_access_key=s;token=tok-1'"

	e.srv.ExpireToken("tok-1")
	wantManifestError(t, exec(withCreds(e.url("cm/1.manifest"), " MANIFEST", tokenCreds)), textExpired)
	wantObjectError(t, exec(withCreds(e.url("c/"), "", "ACCESS_KEY_ID 'AKIAGOOD' SECRET_ACCESS_KEY 's' SESSION_TOKEN 'tok-1'")),
		textExpired, "Listing bucket="+e.bucket+" prefix=c/", "s3_utility.cpp:688")
	e.exec(withCreds(e.url("c/"), "", "CREDENTIALS 'aws_access_key_id=AKIAGOOD;aws_secret_access_key=s;token=tok-2'"))

	e.srv.InvalidAccessKey("AKIABAD")
	wantManifestError(t, exec(withCreds(e.url("cm/1.manifest"), " MANIFEST", "ACCESS_KEY_ID 'AKIABAD' SECRET_ACCESS_KEY 's'")), textInvalidKey)
	wantObjectError(t, exec(withCreds(e.url("c/a.json"), "", "CREDENTIALS 'aws_access_key_id=AKIABAD;aws_secret_access_key=s'")),
		textInvalidKey, "Listing bucket="+e.bucket+" prefix=c/a.json", "s3_utility.cpp:688")
	e.exec(withCreds(e.url("c/"), "", "IAM_ROLE 'arn:aws:iam::123456789012:role/rin'"))
	if f := e.srv.Faults(); f.ExpiredTokens != 1 || f.InvalidAccessKeys != 1 {
		t.Fatalf("faults = %+v", f)
	}

	e.srv.ResetFaults()
	e.exec(withCreds(e.url("cm/1.manifest"), " MANIFEST", tokenCreds))
	if n := e.count(tbl); n != 3 {
		t.Fatalf("rows = %d, want 3", n)
	}
}
