package redshiftsim

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/lib/pq"

	"github.com/rinhq/rin/internal/stack/postgres"
)

// Tests run against real parts: a throwaway PostgreSQL started once for the
// package by package postgres (or RIN_TEST_POSTGRES_DSN), and gofakes3
// in-process per test.

// testPG is set by TestMain: the backend DSN, or why there is none.
var testPG struct {
	dsn  string
	skip string
}

func TestMain(m *testing.M) {
	pg, err := postgres.Start(context.Background(), postgres.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		testPG.skip = err.Error()
	} else {
		testPG.dsn = pg.DSN()
	}
	code := m.Run()
	if pg != nil {
		pg.Stop()
	}
	os.Exit(code)
}

// needPG skips (or, under CI, fails) a test when PostgreSQL is unavailable.
func needPG(t *testing.T) string {
	t.Helper()
	if testPG.dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL unavailable: %s", testPG.skip)
		}
		t.Skipf("PostgreSQL unavailable (install with: apt-get install postgresql): %s", testPG.skip)
	}
	return testPG.dsn
}

// slogForTest routes the simulator's debug log to the test log.
func slogForTest(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// env is one test's world: S3, a simulator, and clients.
type env struct {
	t      *testing.T
	ctx    context.Context
	srv    *Server
	s3     *s3.Client
	bucket string
	db     *sql.DB // lib/pq through the simulator
}

type envOption func(*Config)

// newEnv starts gofakes3 and a simulator in front of the package's
// PostgreSQL.
func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	backend := needPG(t)
	ctx := t.Context()
	fake := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(fake.Close)
	client := s3.New(s3.Options{
		BaseEndpoint:               aws.String(fake.URL),
		UsePathStyle:               true,
		Region:                     "us-east-1",
		Credentials:                credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
	bucket := "rin-test"
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	cfg := Config{Backend: backend, S3: client}
	if testing.Verbose() {
		cfg.Logger = slogForTest(t)
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := Start(ctx, cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	e := &env{t: t, ctx: ctx, srv: srv, s3: client, bucket: bucket}
	if cfg.Password == "" && cfg.TLS == nil {
		e.db = e.open("")
	}
	return e
}

// dsn is a lib/pq URL for the simulator.
func (e *env) dsn(userinfo, params string) string {
	if userinfo == "" {
		userinfo = "rin"
	}
	if params == "" {
		params = "sslmode=disable"
	}
	return fmt.Sprintf("postgres://%s@%s/dev?%s", userinfo, e.srv.Addr(), params)
}

// open returns a lib/pq pool through the simulator.
func (e *env) open(dsn string) *sql.DB {
	e.t.Helper()
	if dsn == "" {
		dsn = e.dsn("", "")
	}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = db.Close() })
	return db
}

func (e *env) put(key string, data []byte) {
	e.t.Helper()
	_, err := e.s3.PutObject(e.ctx, &s3.PutObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key), Body: bytes.NewReader(data)})
	if err != nil {
		e.t.Fatalf("put %s: %v", key, err)
	}
}

func (e *env) url(key string) string { return "s3://" + e.bucket + "/" + key }

// copyJSON is the COPY most tests run: JSON 'auto' from the test bucket's
// key (or prefix) into tbl, with credentials.
func (e *env) copyJSON(tbl, key string) string {
	return fmt.Sprintf("COPY %s FROM '%s' JSON 'auto'%s", tbl, e.url(key), creds)
}

// pgxConn is a pgx connection to the simulator (extended protocol, named
// statements), closed when the test ends.
func (e *env) pgxConn() *pgx.Conn {
	e.t.Helper()
	conn, err := pgx.Connect(e.ctx, e.dsn("", ""))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// exec runs statements through the simulator and fails the test on error.
func (e *env) exec(sqls ...string) {
	e.t.Helper()
	for _, s := range sqls {
		if _, err := e.db.ExecContext(e.ctx, s); err != nil {
			e.t.Fatalf("%s: %v", s, err)
		}
	}
}

// table creates a fresh table with a unique name and returns the name.
func (e *env) table(columns string) string {
	e.t.Helper()
	name := "t_" + strings.ToLower(strings.NewReplacer("/", "_", "-", "_", "#", "_").Replace(e.t.Name())) + "_" + strconv.FormatInt(time.Now().UnixNano()%1e9, 10)
	if len(name) > 60 {
		name = name[len(name)-60:]
		name = "t" + name
	}
	e.exec(fmt.Sprintf("DROP TABLE IF EXISTS %s", quoteIdent(name)), fmt.Sprintf("CREATE TABLE %s (%s)", quoteIdent(name), columns))
	return name
}

func (e *env) count(table string) int {
	e.t.Helper()
	var n int
	if err := e.db.QueryRowContext(e.ctx, "SELECT count(*) FROM "+quoteIdent(table)).Scan(&n); err != nil {
		e.t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// rows returns the table's rows as strings ("NULL" for NULL), ordered by
// the first column.
func (e *env) rows(table string) [][]string {
	e.t.Helper()
	r, err := e.db.QueryContext(e.ctx, "SELECT * FROM "+quoteIdent(table)+" ORDER BY 1")
	if err != nil {
		e.t.Fatalf("select %s: %v", table, err)
	}
	defer r.Close()
	cols, _ := r.Columns()
	var out [][]string
	for r.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := r.Scan(ptrs...); err != nil {
			e.t.Fatal(err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			if v.Valid {
				row[i] = v.String
			} else {
				row[i] = "NULL"
			}
		}
		out = append(out, row)
	}
	if err := r.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// creds is the credentials clause every test COPY carries.
const creds = " IAM_ROLE 'arn:aws:iam::123456789012:role/rin'"

// pqCode returns the SQLSTATE of a lib/pq error, or "".
func pqCode(err error) string {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return string(pe.Code)
	}
	return ""
}
