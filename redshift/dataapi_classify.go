package redshift

import (
	"context"
	"errors"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/rinhq/rin/fsm"
)

// classifyDataAPI marks a Data API error with its scope, like classify
// does for lib/pq. A failed statement carries no SQLSTATE, only Redshift's
// text, which faultScope reads the same way; an API error is judged by its
// type and HTTP status.
func classifyDataAPI(err error) error {
	var f *fsm.Fault
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &f) {
		return err
	}
	var unknown *outcomeUnknown
	if errors.As(err, &unknown) {
		return err
	}
	var se *statementError
	if errors.As(err, &se) {
		scope := statementScope(se)
		return fsm.WithScope(scope, markGone(scope, se.message, err))
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		var re *awshttp.ResponseError
		if errors.As(err, &re) && re.HTTPStatusCode() >= 500 {
			return err
		}
		switch ae.ErrorCode() {
		case "ValidationException":
			// The request rin built was refused: a name or option of the
			// target's (Data API validates SQL parameters, not data).
			return fsm.WithScope(fsm.ScopeTable, err)
		case "ActiveStatementsExceededException", "BatchExecuteStatementException", "ThrottlingException":
			return fsm.WithScope(fsm.ScopeStatement, err)
		}
	}
	return err // the endpoint's: API refused, cluster or workgroup unreachable
}

// statementScope judges a failed statement. Only the COPY can fail on an
// object: a load error text from any other statement is the statement's.
func statementScope(se *statementError) fsm.Scope {
	if se.status == "ABORTED" || se.guard() {
		return fsm.ScopeStatement
	}
	s := faultScope("", se.message, "")
	if s == fsm.ScopeObject && se.kind != "COPY" && se.kind != "" {
		return fsm.ScopeStatement
	}
	return s
}
