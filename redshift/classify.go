package redshift

import (
	"context"
	"errors"
	"regexp"
	"strings"

	"github.com/lib/pq"

	"github.com/rinhq/rin/fsm"
)

// Redshift reports most COPY failures as SQLSTATE XX000 with the S3 or load
// detail in the message, so a failure is judged by what it names, most
// specific first: the SQLSTATE where it means something, then the S3
// status and error code inside the text (`...,Status 403,Error
// AccessDenied,...`), then Redshift's own fixed phrases. Loose words such as
// "manifest" or "invalid" decide nothing: "Problem reading manifest file"
// precedes an access-denied as often as a missing object.
//
// Each failure maps to the scope it is about (fsm.Scope). Only an error
// that names the data of one object (a load error, a missing data file) is
// the object's; permissions, credentials, KMS, regions and missing tables
// hold their scope until they heal; conflicts and timeouts retry the
// statement; anything unrecognised is retried as a statement too, so an
// unknown error can never park an object.

// classify marks a lib/pq error with its scope.
func classify(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var pe *pq.Error
	if !errors.As(err, &pe) {
		return err // network and driver errors: the endpoint's (unmarked)
	}
	scope := faultScope(string(pe.Code), pe.Message, pe.Detail)
	return fsm.WithScope(scope, markGone(scope, pe.Message+"\n"+pe.Detail, err))
}

// markGone makes errors.Is(err, fsm.ErrObjectGone) hold when an object
// fault is S3 saying a data file does not exist (NoSuchKey): its job ends
// removed, not failed. The error's text is unchanged.
func markGone(scope fsm.Scope, text string, err error) error {
	if scope != fsm.ScopeObject || strings.Contains(strings.ToLower(text), "problem reading manifest file") {
		return err
	}
	if m := s3ErrorRe.FindStringSubmatch(text); m != nil && m[2] == "NoSuchKey" {
		return objectGone{err}
	}
	if strings.Contains(strings.ToLower(text), goneEntryPhrase) {
		return objectGone{err}
	}
	return err
}

// goneEntryPhrase is Redshift's text (lower case) for a mandatory manifest
// entry whose object does not exist: a data file gone, said another way.
const goneEntryPhrase = "is mandatory but the s3 object does not exist"

// objectGone is an error that is fsm.ErrObjectGone besides itself.
type objectGone struct{ error }

func (g objectGone) Unwrap() error        { return g.error }
func (g objectGone) Is(target error) bool { return target == fsm.ErrObjectGone }

// faultScope is the scope of a failure Redshift reported with sqlstate
// (empty from the Data API, which reports only text), message and detail.
func faultScope(sqlstate, message, detail string) fsm.Scope {
	switch c := sqlstate; {
	case c == "25006", // read-only transaction: cluster resize
		strings.HasPrefix(c, "08"), strings.HasPrefix(c, "53"), strings.HasPrefix(c, "57P"),
		strings.HasPrefix(c, "28"), strings.HasPrefix(c, "58"):
		return fsm.ScopeEndpoint
	case c == "40001", c == "40P01", c == "55P03", c == "57014":
		return fsm.ScopeStatement
	case c == "42P01", c == "3F000", c == "42501", c == "0A000", strings.HasPrefix(c, "42"):
		return fsm.ScopeTable
	case strings.HasPrefix(c, "22"), strings.HasPrefix(c, "23"):
		return fsm.ScopeObject
	case c != "" && c != "XX000":
		return fsm.ScopeStatement
	}
	return textScope(message + "\n" + detail)
}

// s3ErrorRe finds the S3 status and error code Redshift embeds in its
// messages: "S3ServiceException:Access Denied,Status 403,Error AccessDenied".
var s3ErrorRe = regexp.MustCompile(`Status (\d{3}),\s*Error ([A-Za-z0-9.]+)`)

// textScope judges a failure by its text alone.
func textScope(text string) fsm.Scope {
	lower := strings.ToLower(text)
	if isSerializationConflict(text) {
		return fsm.ScopeStatement
	}
	if m := s3ErrorRe.FindStringSubmatch(text); m != nil {
		return s3Scope(m[1], m[2], strings.Contains(lower, "problem reading manifest file"))
	}
	for _, p := range textScopes {
		if strings.Contains(lower, p.phrase) {
			return p.scope
		}
	}
	return fsm.ScopeStatement
}

// isSerializationConflict recognises Redshift's error 1023, which libpq
// shows as message "1023" with the text in DETAIL, and the Data API as one
// line.
func isSerializationConflict(text string) bool {
	return strings.HasPrefix(strings.TrimPrefix(text, "ERROR: "), "1023\n") ||
		strings.Contains(text, "Serializable isolation violation")
}

// s3Scope maps an S3 status and error code. manifest says the object that
// failed was the manifest rin wrote, not a data file.
func s3Scope(status, code string, manifest bool) fsm.Scope {
	switch {
	case code == "ExpiredToken", code == "InvalidToken", code == "TokenRefreshRequired",
		code == "InvalidAccessKeyId", code == "SignatureDoesNotMatch", code == "InvalidClientTokenId",
		code == "InvalidSecurity", code == "RequestExpired":
		return fsm.ScopeCredentials
	case code == "AccessDenied", code == "AllAccessDisabled", code == "AccountProblem",
		code == "AccessDeniedException", strings.HasPrefix(code, "KMS."),
		code == "PermanentRedirect", code == "AuthorizationHeaderMalformed", code == "NoSuchBucket",
		code == "IllegalLocationConstraintException", code == "TemporaryRedirect":
		return fsm.ScopeBucket
	case code == "NoSuchKey", code == "InvalidObjectState":
		if manifest {
			// rin's own manifest gone: the next attempt writes a new one.
			return fsm.ScopeStatement
		}
		return fsm.ScopeObject
	case status == "301", status == "307", status == "403":
		return fsm.ScopeBucket
	case status == "404" && !manifest:
		return fsm.ScopeObject
	}
	return fsm.ScopeStatement // throttling, 5xx, request timeouts
}

// textScopes are Redshift's and PostgreSQL's fixed phrases, lower case,
// checked in order after the S3 codes. The Data API reports these without a
// SQLSTATE, so the phrases of errors that have one are here too.
var textScopes = []struct {
	phrase string
	scope  fsm.Scope
}{
	// Credentials: the cluster may not use the role, or STS refused it.
	{"is not authorized to assume iam role", fsm.ScopeCredentials},
	{"not authorized to get credentials of role", fsm.ScopeCredentials},
	{"the security token included in the request is invalid", fsm.ScopeCredentials},
	{"the security token included in the request is expired", fsm.ScopeCredentials},
	// Object: load errors name the object in stl_load_errors (provisioned)
	// or sys_load_error_detail (serverless).
	{"check 'stl_load_errors' system table", fsm.ScopeObject},
	{"check 'sys_load_error_detail' system table", fsm.ScopeObject},
	{"the specified s3 prefix", fsm.ScopeObject}, // prefix COPY: the object is gone
	{goneEntryPhrase, fsm.ScopeObject},
	{"zlib error code", fsm.ScopeObject},
	{"failed to decompress", fsm.ScopeObject},
	{"invalid input syntax for", fsm.ScopeObject},
	{"value too long for type", fsm.ScopeObject},
	// Table: missing, no privilege, options it refuses.
	{"cannot copy into nonexistent table", fsm.ScopeTable},
	{"permission denied for", fsm.ScopeTable},
	{`" does not exist`, fsm.ScopeTable}, // relation "s.t" / schema "s" / column "c" does not exist
	{"syntax error at or near", fsm.ScopeTable},
	// Endpoint: the cluster cannot run anything now.
	{"in a read-only transaction", fsm.ScopeEndpoint},
	{"could not connect to server", fsm.ScopeEndpoint},
	{"connection refused", fsm.ScopeEndpoint},
	{"terminating connection", fsm.ScopeEndpoint},
	{"password authentication failed", fsm.ScopeEndpoint},
	{"cluster is currently being resized", fsm.ScopeEndpoint},
	{"database is in maintenance", fsm.ScopeEndpoint},
}

// contextLine finds the "context:" line of Redshift's error DETAIL block.
var contextLine = regexp.MustCompile(`(?m)^\s*context:\s*(.+?)\s*$`)

// errorContext is the context Redshift's DETAIL gives a failure (the S3
// key being read, say), for the error text people and rin-journal see:
// lib/pq leaves DETAIL out of Error().
func errorContext(err error) string {
	var pe *pq.Error
	if !errors.As(err, &pe) {
		return ""
	}
	if m := contextLine.FindStringSubmatch(pe.Detail); m != nil {
		return " (" + m[1] + ")"
	}
	return ""
}
