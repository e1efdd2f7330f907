package redshift

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/lib/pq"

	"github.com/rinhq/rin/fsm"
)

// Real error texts, as Redshift (provisioned and serverless) and the Data
// API report them, and the scope each is about. Only the object rows may
// ever mark an object; the REFERENCE's rule is that everything else holds
// its scope or retries the statement.
func TestClassifyRealErrors(t *testing.T) {
	const s3Detail = `
  -----------------------------------------------
  error:  S3ServiceException:Access Denied,Status 403,Error AccessDenied,Rid 4F2E8A1B7C3D9E0F,ExtRid q8j1c0bV/3Zx=,CanRetry 1
  code:      8001
  context:   S3 key being read : s3://logs/app/2026/12/06/a.json.gz
  query:     1234567
  location:  table_s3_scanner.cpp:355
  process:   query1_117_1234567 [pid=12345]
  -----------------------------------------------`
	cases := []struct {
		name                  string
		sqlstate, msg, detail string
		want                  fsm.Scope
	}{
		// Permission and credentials: the bucket or the credentials, never the object.
		{"manifest access denied", "XX000", "Problem reading manifest file - S3ServiceException:Access Denied,Status 403,Error AccessDenied,Rid 4F2E8A1B7C3D9E0F,ExtRid q8j1c0bV/3Zx=,CanRetry 1", "", fsm.ScopeBucket},
		{"data file access denied", "XX000", "S3ServiceException:Access Denied,Status 403,Error AccessDenied,Rid 4F2E8A1B7C3D9E0F,ExtRid q8j1c0bV/3Zx=,CanRetry 1", s3Detail, fsm.ScopeBucket},
		{"serverless access denied", "XX000", "Problem reading manifest file - S3ServiceException:Access Denied,Status 403,Error AccessDenied,Rid ABC,ExtRid DEF,CanRetry 1 Details: error: Problem reading manifest file", "", fsm.ScopeBucket},
		{"access denied in detail only", "XX000", "Spectrum Scan Error", s3Detail, fsm.ScopeBucket},
		{"expired token", "XX000", "S3ServiceException:The provided token has expired.,Status 400,Error ExpiredToken,Rid 1,ExtRid 2,CanRetry 1", "", fsm.ScopeCredentials},
		{"expired token on manifest", "XX000", "Problem reading manifest file - S3ServiceException:The provided token has expired.,Status 400,Error ExpiredToken,Rid 1,ExtRid 2,CanRetry 1", "", fsm.ScopeCredentials},
		{"invalid access key", "XX000", "S3ServiceException:The AWS Access Key Id you provided does not exist in our records.,Status 403,Error InvalidAccessKeyId,Rid 1,ExtRid 2,CanRetry 1", "", fsm.ScopeCredentials},
		{"signature mismatch", "XX000", "S3ServiceException:The request signature we calculated does not match the signature you provided. Check your key and signing method.,Status 403,Error SignatureDoesNotMatch,Rid 1,ExtRid 2,CanRetry 1", "", fsm.ScopeCredentials},
		{"role not assumable", "XX000", "User arn:aws:redshift:us-east-1:123456789012:dbuser:analytics/rin is not authorized to assume IAM Role arn:aws:iam::123456789012:role/RedshiftCopy", "", fsm.ScopeCredentials},
		{"sts token invalid", "XX000", "Not authorized to get credentials of role arn:aws:iam::123456789012:role/RedshiftCopy", "", fsm.ScopeCredentials},
		{"kms disabled", "XX000", "S3ServiceException:arn:aws:kms:us-east-1:123456789012:key/1234abcd is disabled.,Status 400,Error KMS.DisabledException,Rid 1,ExtRid 2,CanRetry 1", "", fsm.ScopeBucket},
		{"kms access denied", "XX000", "S3ServiceException:User: arn:aws:sts::123456789012:assumed-role/RedshiftCopy/Redshift is not authorized to perform: kms:Decrypt,Status 400,Error AccessDeniedException,Rid 1,ExtRid 2,CanRetry 1", "", fsm.ScopeBucket},
		{"kms not found", "XX000", "S3ServiceException:Invalid keyId 1234abcd,Status 400,Error KMS.NotFoundException,Rid 1,ExtRid 2,CanRetry 1", "", fsm.ScopeBucket},
		{"permission on table", "42501", "permission denied for relation events", "", fsm.ScopeTable},
		// Wrong place.
		{"manifest in another region", "XX000", "Problem reading manifest file - S3ServiceException:The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.,Status 301,Error PermanentRedirect,Rid 1,ExtRid 2,CanRetry 1", "", fsm.ScopeBucket},
		{"data file in another region", "XX000", "S3ServiceException:The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.,Status 301,Error PermanentRedirect,Rid 1,ExtRid 2,CanRetry 1", "", fsm.ScopeBucket},
		{"missing table", "42P01", `relation "public.events" does not exist`, "", fsm.ScopeTable},
		{"copy into missing table", "42P01", "Cannot COPY into nonexistent table events", "", fsm.ScopeTable},
		{"missing schema", "3F000", `schema "logs" does not exist`, "", fsm.ScopeTable},
		{"missing column", "42703", `column "ts" of relation "events" does not exist`, "", fsm.ScopeTable},
		{"bad sql_option", "42601", `syntax error at or near "GZIPP"`, "", fsm.ScopeTable},
		{"no such bucket", "XX000", "Problem reading manifest file - S3ServiceException:The specified bucket does not exist,Status 404,Error NoSuchBucket,Rid 1,ExtRid 2,CanRetry 1", "", fsm.ScopeBucket},
		// Transient cluster state: the endpoint, or the statement.
		{"resize", "25006", "cannot execute COPY in a read-only transaction", "", fsm.ScopeEndpoint},
		{"admin shutdown", "57P01", "terminating connection due to administrator command", "", fsm.ScopeEndpoint},
		{"login refused", "28000", "password authentication failed for user \"rin\"", "", fsm.ScopeEndpoint},
		{"too many connections", "53300", "connection limit exceeded for non-superusers", "", fsm.ScopeEndpoint},
		{"serializable 1023", "XX000", "1023", "Serializable isolation violation on table - 108175, transactions forming the cycle are: 1013, 1015 (pid:11890)", fsm.ScopeStatement},
		{"statement timeout", "57014", "canceling statement due to statement timeout", "", fsm.ScopeStatement},
		{"wlm timeout", "57014", "Query (1234567) cancelled by WLM abort action of Query Monitoring Rule \"timeout\".", "", fsm.ScopeStatement},
		{"s3 slow down", "XX000", "S3ServiceException:Please reduce your request rate.,Status 503,Error SlowDown,Rid 1,ExtRid 2,CanRetry 1", "", fsm.ScopeStatement},
		{"s3 internal error", "XX000", "S3ServiceException:We encountered an internal error. Please try again.,Status 500,Error InternalError,Rid 1,ExtRid 2,CanRetry 1", "", fsm.ScopeStatement},
		{"manifest vanished", "XX000", "Problem reading manifest file - S3ServiceException:The specified key does not exist.,Status 404,Error NoSuchKey,Rid 1,ExtRid 2,CanRetry 1", "", fsm.ScopeStatement},
		{"unknown internal error", "XX000", "Assert", "", fsm.ScopeStatement},
		// Object-specific: the only ones that may isolate and park an object.
		{"load error", "XX000", "Load into table 'events' failed.  Check 'stl_load_errors' system table for details.", "", fsm.ScopeObject},
		{"serverless load error", "XX000", "Load into table 'events' failed. Check 'sys_load_error_detail' system table for details.", "", fsm.ScopeObject},
		{"data file gone", "XX000", "S3ServiceException:The specified key does not exist.,Status 404,Error NoSuchKey,Rid 1,ExtRid 2,CanRetry 1", "", fsm.ScopeObject},
		{"prefix gone", "XX000", "The specified S3 prefix 'logs/a/1.json' does not exist", "", fsm.ScopeObject},
		{"glacier object", "XX000", "S3ServiceException:The operation is not valid for the object's storage class,Status 403,Error InvalidObjectState,Rid 1,ExtRid 2,CanRetry 1", "", fsm.ScopeObject},
		{"bad gzip", "XX000", "gzip: unexpected end of stream. Unknown zlib error code. zlib error code: -1", "", fsm.ScopeObject},
		{"conversion (PostgreSQL-style)", "22P02", `invalid input syntax for type integer: "abc"`, "", fsm.ScopeObject},
	}
	if len(cases) < 25 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, c := range cases {
		err := fmt.Errorf("COPY into x: %w", &pq.Error{Code: pq.ErrorCode(c.sqlstate), Message: c.msg, Detail: c.detail})
		got := classify(err)
		if s := fsm.ScopeOf(got); s != c.want {
			t.Errorf("%s: scope %s, want %s (%s)", c.name, s, c.want, c.msg)
		}
		if errors.Is(got, fsm.ErrBadObject) != (c.want == fsm.ScopeObject) {
			t.Errorf("%s: ErrBadObject %v", c.name, errors.Is(got, fsm.ErrBadObject))
		}
		// The Data API reports the same text with "ERROR: " and no SQLSTATE.
		if c.sqlstate == "XX000" {
			se := &statementError{status: "FAILED", message: "ERROR: " + c.msg + " " + c.detail, kind: "COPY", failed: 1}
			if s := fsm.ScopeOf(classifyDataAPI(se)); s != c.want {
				t.Errorf("%s (Data API): scope %s, want %s", c.name, s, c.want)
			}
		}
	}
	// Not Redshift's: network trouble is the endpoint's.
	if s := fsm.ScopeOf(classify(errors.New("dial tcp 127.0.0.1:5439: connect: connection refused"))); s != fsm.ScopeEndpoint {
		t.Errorf("connection refused: %s", s)
	}
}

// rin's own S3 calls (the manifest write) are scoped like Redshift's
// reports of the same faults.
func TestS3FaultScopes(t *testing.T) {
	apiErr := func(status int, code string) error {
		return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
			Err:      &smithy.GenericAPIError{Code: code, Message: code},
		}}
	}
	for _, c := range []struct {
		err  error
		want fsm.Scope
	}{
		{apiErr(403, "AccessDenied"), fsm.ScopeBucket},
		{apiErr(301, "PermanentRedirect"), fsm.ScopeBucket},
		{apiErr(404, "NoSuchBucket"), fsm.ScopeBucket},
		{apiErr(400, "ExpiredToken"), fsm.ScopeCredentials},
		{apiErr(403, "InvalidAccessKeyId"), fsm.ScopeCredentials},
		{apiErr(503, "SlowDown"), fsm.ScopeStatement},
		{errors.New("dial tcp: i/o timeout"), fsm.ScopeStatement},
	} {
		if got := fsm.ScopeOf(s3Fault(fmt.Errorf("write manifest: %w", c.err))); got != c.want {
			t.Errorf("%v: %s, want %s", c.err, got, c.want)
		}
	}
}

// A ledger that cannot be created holds the endpoint (not a table), and a
// creation race lost to another process is retried, never an object's.
func TestLedgerCreateScopes(t *testing.T) {
	var l ledger
	perm := classify(&pq.Error{Code: "42501", Message: "permission denied for schema public"})
	if got := fsm.ScopeOf(l.ensureErr("x", perm)); got != fsm.ScopeEndpoint {
		t.Errorf("no privilege: %s", got)
	}
	race := classify(&pq.Error{Code: "23505", Message: `duplicate key value violates unique constraint "pg_type_typname_nsp_index"`})
	if got := fsm.ScopeOf(l.ensureErr("x", race)); got != fsm.ScopeStatement {
		t.Errorf("creation race: %s", got)
	}
	if got := fsm.ScopeOf(ledgerFault(&pq.Error{Code: "42P01", Message: `relation "rin_ledger_x" does not exist`})); got != fsm.ScopeEndpoint {
		t.Errorf("ledger missing: %s", got)
	}
}

func TestErrorContext(t *testing.T) {
	err := &pq.Error{Code: "XX000", Message: "S3ServiceException:Access Denied,Status 403,Error AccessDenied", Detail: "\n  -----\n  error:  x\n  code:      8001\n  context:   S3 key being read : s3://b/k 1.json\n  query:     1\n"}
	if got := errorContext(fmt.Errorf("x: %w", err)); got != " (S3 key being read : s3://b/k 1.json)" {
		t.Fatalf("context %q", got)
	}
	if got := errorContext(errors.New("plain")); got != "" {
		t.Fatalf("context of a plain error: %q", got)
	}
}

// A data file S3 no longer has is the object's absence (its job ends
// removed); a vanished manifest, an access fault or a load error is not.
func TestClassifyObjectGone(t *testing.T) {
	for _, c := range []struct {
		msg  string
		gone bool
	}{
		{"S3ServiceException:The specified key does not exist.,Status 404,Error NoSuchKey,Rid 1,ExtRid 2,CanRetry 1", true},
		{"Manifest file entry 's3://b/k.json' is mandatory but the S3 object does not exist", true},
		{"Problem reading manifest file - S3ServiceException:The specified key does not exist.,Status 404,Error NoSuchKey,Rid 1,ExtRid 2,CanRetry 1", false},
		{"S3ServiceException:Access Denied,Status 403,Error AccessDenied,Rid 1,ExtRid 2,CanRetry 1", false},
		{"Load into table 't' failed.  Check 'stl_load_errors' system table for details.", false},
	} {
		err := classify(&pq.Error{Code: "XX000", Message: c.msg})
		if got := errors.Is(err, fsm.ErrObjectGone); got != c.gone {
			t.Errorf("%q: gone = %v, want %v", c.msg, got, c.gone)
		}
		if err.Error() != (&pq.Error{Code: "XX000", Message: c.msg}).Error() {
			t.Errorf("classify changed the text: %q", err.Error())
		}
	}
}
