package redshift

import (
	"context"
	"errors"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/rinhq/rin/fsm"
)

// classifyDataAPI marks a Data API error for the engine, like classify does
// for lib/pq. Data API errors carry no SQLSTATE, so a failed statement is
// judged by its message, and an API error by its type and HTTP status:
// refused requests and missing privileges are permanent; throttling, 5xx,
// network trouble and anything unrecognised are transient.
func classifyDataAPI(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		fsm.IsPermanent(err) {
		return err
	}
	var unknown *outcomeUnknown
	if errors.As(err, &unknown) {
		return err
	}
	var se *statementError
	if errors.As(err, &se) {
		return classifyStatement(err, se)
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		var re *awshttp.ResponseError
		if errors.As(err, &re) && re.HTTPStatusCode() >= 500 {
			return err
		}
		switch ae.ErrorCode() {
		case "ValidationException", "AccessDeniedException", "ResourceNotFoundException":
			return fsm.Permanent(err)
		}
	}
	return err
}

// classifyStatement judges a failed statement by its message. Load errors
// (the data, a missing object) are the object's fault only when the COPY
// is what failed.
func classifyStatement(err error, se *statementError) error {
	msg := strings.ToLower(se.message)
	isCopy := se.kind == "COPY" || se.kind == ""
	switch {
	case se.status == "ABORTED", se.guard():
		return err
	case containsAny(msg, "read-only", "read only", "serializable isolation", "deadlock", "could not connect",
		"connection", "terminat", "timeout", "timed out", "throttl", "rate exceeded", "canceling statement",
		"try again", "resize", "temporarily", "out of memory", "disk full"):
		return err
	case containsAny(msg, "permission denied", "access denied", "not authorized"):
		return fsm.Permanent(err)
	case isCopy && containsAny(msg, "load into table", "stl_load_errors", "sys_load_error_detail", "manifest",
		"s3 object", "s3serviceexception", "s3 prefix", "invalid", "delimiter", "parse", "malformed",
		"decompress", "gzip", "zstd", "bzip2", "violates", "out of range", "value too long", "extra data", "missing data"):
		return fsm.BadObject(err)
	case containsAny(msg, "does not exist", "syntax error", "not supported", "unsupported", "must be specified",
		"unknown", "invalid"):
		return fsm.Permanent(err)
	default:
		return err
	}
}
