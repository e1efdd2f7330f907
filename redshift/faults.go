package redshift

import (
	"errors"
	"fmt"
	"strconv"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/rinhq/rin/fsm"
)

// errEndpointGone is the fault of a job whose endpoint a config change
// removed: it waits (with its message kept) until the endpoint is back or a
// person forgets the job; nothing about it is the object's fault.
func errEndpointGone(endpoint string) error {
	return fsm.WithScope(fsm.ScopeEndpoint, fmt.Errorf("endpoint %s is not in the config any more (restore it, or rin-journal forget its jobs)", endpoint))
}

// ledgerFault scopes a failure of a ledger statement. The ledger is the
// endpoint's, whatever the error says: a ledger table a person dropped or
// may not write holds every table of the endpoint, never one object.
func ledgerFault(err error) error {
	switch fsm.ScopeOf(classify(err)) {
	case fsm.ScopeTable, fsm.ScopeObject:
		return fsm.Rescope(fsm.ScopeEndpoint, err)
	}
	return classify(err)
}

// s3Fault scopes a failure of rin's own S3 call (writing a manifest) by
// the S3 error code and status, as Redshift's reports of the same faults are.
func s3Fault(err error) error {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return fsm.WithScope(fsm.ScopeStatement, err) // network trouble reaching S3
	}
	status := ""
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = strconv.Itoa(re.HTTPStatusCode())
	}
	return fsm.WithScope(s3Scope(status, ae.ErrorCode(), false), err)
}
