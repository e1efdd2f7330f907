// Package dataapi is a stand-in for the Amazon Redshift Data API, for tests.
//
// It speaks the API's wire protocol (AWS JSON 1.1: a POST to "/" with
// X-Amz-Target: RedshiftData.<Operation>), so the unmodified
// aws-sdk-go-v2 service/redshiftdata client works against it with
// BaseEndpoint (or AWS_ENDPOINT_URL_REDSHIFT_DATA) set to Server.Endpoint.
// Requests are not authenticated: any SigV4 signature is accepted.
//
// Like the real service it runs statements asynchronously: ExecuteStatement
// and BatchExecuteStatement return an id at once, and the statement goes
// SUBMITTED -> STARTED -> FINISHED or FAILED (or ABORTED when cancelled),
// which callers observe with DescribeStatement. Each statement runs on its
// own PostgreSQL-protocol connection to the backend (the Redshift simulator
// of package redshiftsim, so Redshift's COPY ... FROM 's3://...'
// works). A batch runs as one transaction: BEGIN, the statements in order,
// COMMIT; any failure rolls all of them back, and the failed sub-statement
// carries the error while the ones after it are ABORTED.
//
// Supported: ExecuteStatement (with named :parameters), BatchExecuteStatement,
// DescribeStatement (with SubStatements for batches), GetStatementResult
// (typed fields: longValue, doubleValue, booleanValue, stringValue, isNull;
// paged with NextToken) and CancelStatement. ClientToken makes submission
// idempotent, as in the real API, so an SDK retry of a submission whose
// reply was lost does not run the statement twice.
//
// Not simulated: authentication and authorization, sessions (SessionId),
// result formats other than JSON, ListStatements and the metadata
// operations, and result expiry.
package dataapi
