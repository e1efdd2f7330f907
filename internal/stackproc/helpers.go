package stackproc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/jackc/pgx/v5"

	"github.com/rinhq/rin/internal/localaws"
)

// Name returns prefix plus a random suffix, usable as a queue, bucket,
// schema, table or database name: lowercase letters, digits and "_" only
// (prefix is lowercased and other characters become "_"), at most 40 bytes.
func Name(prefix string) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	p := strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9', r == '_':
			return r
		case 'A' <= r && r <= 'Z':
			return r + 'a' - 'A'
		default:
			return '_'
		}
	}, prefix)
	if len(p) > 29 {
		p = p[:29]
	}
	return p + "_" + hex.EncodeToString(b)
}

// BucketName is Name made valid for S3 (no "_", which buckets reject).
func BucketName(prefix string) string {
	return strings.ReplaceAll(Name(prefix), "_", "-")
}

// NewBucket creates a uniquely named bucket and returns its name.
func NewBucket(t testing.TB, s *Stack) string {
	t.Helper()
	name := BucketName("b")
	if _, err := s.S3().CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	return name
}

// Connect opens a connection to the Redshift simulator, closed when t ends.
func Connect(t testing.TB, s *Stack) *pgx.Conn {
	t.Helper()
	return ConnectDSN(t, s.RedshiftDSN())
}

// ConnectDSN opens a connection to the Redshift simulator at dsn, closed
// when t ends.
func ConnectDSN(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatalf("connect to redshift simulator: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// NewTable creates schema.table (schema created if missing) through the
// simulator with the given column definitions, e.g. "id int, name text".
// It returns the quoted "schema"."table".
func NewTable(t testing.TB, s *Stack, schema, table, columns string) string {
	t.Helper()
	return NewTableDSN(t, s.RedshiftDSN(), schema, table, columns)
}

// NewTableDSN is NewTable through the simulator at dsn.
func NewTableDSN(t testing.TB, dsn, schema, table, columns string) string {
	t.Helper()
	conn := ConnectDSN(t, dsn)
	qs := pgx.Identifier{schema}.Sanitize()
	qt := pgx.Identifier{schema, table}.Sanitize()
	for _, sql := range []string{
		"CREATE SCHEMA IF NOT EXISTS " + qs,
		"CREATE TABLE " + qt + " (" + columns + ")",
	} {
		if _, err := conn.Exec(t.Context(), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	return qt
}

// CountRows returns the number of rows in schema.table, read through the
// simulator.
func CountRows(t testing.TB, s *Stack, schema, table string) int64 {
	t.Helper()
	return CountRowsDSN(t, s.RedshiftDSN(), schema, table)
}

// CountRowsDSN is CountRows through the simulator at dsn.
func CountRowsDSN(t testing.TB, dsn, schema, table string) int64 {
	t.Helper()
	conn := ConnectDSN(t, dsn)
	var n int64
	sql := "SELECT count(*) FROM " + pgx.Identifier{schema, table}.Sanitize()
	if err := conn.QueryRow(t.Context(), sql).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// CheckReceivesWhole sends n messages of about 900 bytes to url, drains them
// with one receiver through c (ReceiveMessage of 10, DeleteMessageBatch), and
// fails t unless all n came back and none is left in flight. Responses of
// ten such messages are larger than net/http's 4 KiB read buffer, which is
// what the SDK/net/http race that internal/httpbody avoids needs to break
// one after goaws has put its messages in flight.
func CheckReceivesWhole(t testing.TB, q *localaws.SQS, c *sqs.Client, url string, n int) {
	t.Helper()
	ctx := context.Background()
	bodies := make([]string, n)
	for i := range bodies {
		bodies[i] = fmt.Sprintf("%06d %s", i, strings.Repeat("x", 900))
	}
	if err := q.SendBatch(ctx, url, bodies); err != nil {
		t.Fatal(err)
	}
	got := 0
	for {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			break
		}
		entries := make([]types.DeleteMessageBatchRequestEntry, len(out.Messages))
		for i, m := range out.Messages {
			entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle}
		}
		if _, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: entries}); err != nil {
			t.Fatal(err)
		}
		got += len(out.Messages)
	}
	inFlight, err := q.InFlight(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if got != n || inFlight != 0 {
		t.Errorf("received %d of %d, %d left in flight (responses broken after the queue marked them)", got, n, inFlight)
	}
}
