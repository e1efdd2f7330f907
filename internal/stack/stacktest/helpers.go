package stacktest

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/jackc/pgx/v5"

	"github.com/rinhq/rin/internal/stack"
	"github.com/rinhq/rin/internal/stackproc"
)

// The helpers are rin module's (internal/stackproc), which its own tests use
// with the stack run as a process; these apply them to a Stack.

// Name returns prefix plus a random suffix, usable as a queue, bucket,
// schema, table or database name (see stackproc.Name).
func Name(prefix string) string { return stackproc.Name(prefix) }

// BucketName is Name made valid for S3 (no "_", which buckets reject).
func BucketName(prefix string) string { return stackproc.BucketName(prefix) }

// NewQueue creates a uniquely named queue with a DLQ (maxReceiveCount 3) and
// returns its name and URL.
func NewQueue(t testing.TB, s *stack.Stack, opts stack.QueueOptions) (name, url string) {
	t.Helper()
	name = Name("q")
	opts.DeadLetter = true
	url, err := s.SQS().CreateQueue(t.Context(), name, opts)
	if err != nil {
		t.Fatal(err)
	}
	return name, url
}

// NewBucket creates a uniquely named bucket and returns its name.
func NewBucket(t testing.TB, s *stack.Stack) string {
	t.Helper()
	name := BucketName("b")
	if err := s.S3().CreateBucket(t.Context(), name); err != nil {
		t.Fatal(err)
	}
	return name
}

// Connect opens a connection to the Redshift simulator, closed when t ends.
func Connect(t testing.TB, s *stack.Stack) *pgx.Conn {
	t.Helper()
	return stackproc.ConnectDSN(t, s.RedshiftDSN())
}

// NewTable creates schema.table (schema created if missing) through the
// simulator with the given column definitions, e.g. "id int, name text".
// It returns the quoted "schema"."table".
func NewTable(t testing.TB, s *stack.Stack, schema, table, columns string) string {
	t.Helper()
	return stackproc.NewTableDSN(t, s.RedshiftDSN(), schema, table, columns)
}

// CountRows returns the number of rows in schema.table, read through the
// simulator.
func CountRows(t testing.TB, s *stack.Stack, schema, table string) int64 {
	t.Helper()
	return stackproc.CountRowsDSN(t, s.RedshiftDSN(), schema, table)
}

// CheckReceivesWhole sends n messages to url and drains them through c,
// failing t unless all came back and none is left in flight (see
// stackproc.CheckReceivesWhole).
func CheckReceivesWhole(t testing.TB, q *stack.SQS, c *sqs.Client, url string, n int) {
	t.Helper()
	stackproc.CheckReceivesWhole(t, q, c, url, n)
}
