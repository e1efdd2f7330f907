package redshift

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	rsapi "github.com/aws/aws-sdk-go-v2/service/redshift"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	_ "github.com/lib/pq"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/internal/localaws"
	"github.com/rinhq/rin/internal/stackproc"
	"github.com/rinhq/rin/journal"
)

var shared stackproc.Shared

func TestMain(m *testing.M) { stackproc.Main(m, &shared) }

func configRedshift(host string, port int, db, user, password string) config.Redshift {
	return config.Redshift{Driver: "postgres", Host: host, Port: port, DBName: db, User: user, Password: password, SSLMode: "disable"}
}

// fixture is a table, a bucket with objects and a Copier, on the stack.
type fixture struct {
	st     *stackproc.Stack
	schema string
	bucket string
	ep     config.Redshift
	copier *Copier
}

func newFixture(t *testing.T, password string, api ClusterCredentialsAPI) *fixture {
	t.Helper()
	st := shared.Get(t)
	f := &fixture{st: st, schema: stackproc.Name("s"), bucket: stackproc.NewBucket(t, st)}
	stackproc.NewTable(t, st, f.schema, "t", "src varchar(256), n int")
	host, port := st.RedshiftHostPort()
	f.ep = configRedshift(host, port, st.Database(), localaws.RedshiftUser, password)
	f.copier = New(Options{
		Endpoints:          map[string]config.Redshift{f.ep.Endpoint(): f.ep},
		Credentials:        CopyCredentials{AccessKeyID: "AKIATEST", SecretAccessKey: "secret"},
		Ledger:             config.Ledger{Schema: f.schema, Table: "rin_ledger"},
		Manifest:           config.Manifest{Prefix: "_rin/manifests/"},
		Store:              st.S3(),
		ClusterCredentials: api,
		Logger:             slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	t.Cleanup(func() { f.copier.Close() })
	return f
}

func (f *fixture) job(t *testing.T, key string, rows int) journal.Job {
	t.Helper()
	var b strings.Builder
	for i := 0; i < rows; i++ {
		fmt.Fprintf(&b, `{"src":%q,"n":%d}`+"\n", key, i)
	}
	if err := f.st.PutObject(context.Background(), f.bucket, key, []byte(b.String())); err != nil {
		t.Fatal(err)
	}
	return journal.Job{
		ID: journal.JobID(f.ep.Endpoint(), f.schema, "t", f.bucket, key, ""), State: journal.Copying,
		Endpoint: f.ep.Endpoint(), Schema: f.schema, Table: "t", Bucket: f.bucket, Key: key, Manifest: true,
	}
}

func (f *fixture) batch(jobs ...journal.Job) fsm.Batch {
	return fsm.Batch{
		ID:   fmt.Sprintf("b%d", time.Now().UnixNano()),
		Dest: fsm.Destination{Endpoint: f.ep.Endpoint(), Schema: f.schema, Table: "t", SQLOption: "JSON 'auto'", Region: "us-east-1", Manifest: true, Bucket: f.bucket},
		Jobs: jobs,
	}
}

func (f *fixture) rows(t *testing.T) int {
	t.Helper()
	return int(stackproc.CountRows(t, f.st, f.schema, "t"))
}

// A batch loads its exact objects once; the same batch again is skipped
// by the ledger, and the manifests are cleaned up.
func TestCopyBatchLedgerAndManifest(t *testing.T) {
	f := newFixture(t, "pw", nil)
	a, a10 := f.job(t, "k/1", 2), f.job(t, "k/10", 3) // k/1 is a prefix of k/10
	f.job(t, "k/11", 5)                               // never in a batch: must never load
	res, err := f.copier.Copy(context.Background(), f.batch(a))
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 2 || f.rows(t) != 2 {
		t.Fatalf("first copy: %d rows reported, %d in table; want exactly k/1's 2", res.Rows, f.rows(t))
	}
	res, err = f.copier.Copy(context.Background(), f.batch(a, a10))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Skipped[a.ID] || res.Skipped[a10.ID] || res.Rows != 3 || f.rows(t) != 5 {
		t.Fatalf("second copy: skipped %v, rows %d, table %d; want k/1 skipped, k/10's 3 loaded", res.Skipped, res.Rows, f.rows(t))
	}
	var inLedger int
	ledgerSQL := fmt.Sprintf(`SELECT count(*) FROM "%s"."%s" WHERE job_id IN ($1, $2)`, f.schema, f.copier.ledger.tableFor(f.schema, "t"))
	if err := stackproc.Connect(t, f.st).QueryRow(context.Background(), ledgerSQL, a.ID, a10.ID).Scan(&inLedger); err != nil || inLedger != 2 {
		t.Fatalf("ledger holds %d rows of the 2 jobs (%v); want exactly one each", inLedger, err)
	}
	list, err := f.st.S3().ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(f.bucket), Prefix: aws.String("_rin/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Contents) != 0 {
		t.Fatalf("%d manifests left behind", len(list.Contents))
	}
}

// rin's COPY works through the pinned lib/pq in both the simple protocol
// (what rin uses: Exec without arguments) and the extended one (Prepare).
func TestCopyStatementBothProtocols(t *testing.T) {
	f := newFixture(t, "pw", nil)
	j := f.job(t, "p/1", 4)
	s := copyStatement{table: tableName(f.schema, "t"), from: j.URI(), creds: "aws_iam_role=arn:aws:iam::1:role/r", region: "us-east-1", sqlOption: "JSON 'auto'"}
	db, err := sql.Open("postgres", dsn(f.ep, f.ep.User, "pw"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(s.SQL()); err != nil {
		t.Fatalf("simple protocol: %v", err)
	}
	stmt, err := db.Prepare(s.SQL())
	if err != nil {
		t.Fatalf("prepare: %v", err)
	}
	defer stmt.Close()
	r, err := stmt.Exec()
	if err != nil {
		t.Fatalf("extended protocol: %v", err)
	}
	if n, _ := r.RowsAffected(); n != 4 || f.rows(t) != 8 {
		t.Fatalf("rows affected %d, table %d; want 4 and 8", n, f.rows(t))
	}
}

// An empty password means temporary credentials from GetClusterCredentials,
// here from a local stand-in of the Redshift API; they are fetched once and
// again when about to expire.
func TestTemporaryCredentials(t *testing.T) {
	var calls atomic.Int32
	const tempPassword = "temp-pw-from-api"
	expiry := func() time.Time {
		if calls.Load() == 1 {
			return time.Now().Add(30 * time.Second) // inside the refresh margin: next connect refetches
		}
		return time.Now().Add(time.Hour)
	}
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if r.Form.Get("Action") != "GetClusterCredentials" || r.Form.Get("ClusterIdentifier") != "127" || r.Form.Get("DbUser") != localaws.RedshiftUser {
			http.Error(w, "unexpected request "+r.Form.Encode(), 400)
			return
		}
		calls.Add(1)
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<GetClusterCredentialsResponse xmlns="http://redshift.amazonaws.com/doc/2012-12-01/"><GetClusterCredentialsResult><DbUser>IAM:%s</DbUser><Expiration>%s</Expiration><DbPassword>%s</DbPassword></GetClusterCredentialsResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetClusterCredentialsResponse>`,
			localaws.RedshiftUser, expiry().UTC().Format(time.RFC3339), tempPassword)
	}))
	defer api.Close()
	client := rsapi.New(rsapi.Options{
		BaseEndpoint: aws.String(api.URL), Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIATEST", "secret", ""),
	})

	// A simulator of our own that demands the temporary password.
	sim := startSimWithPassword(t, tempPassword)
	f := newFixture(t, "", client)
	host, port := splitHostPort(t, sim)
	f.ep.Host, f.ep.Port = host, port
	f.copier.opts.Endpoints = map[string]config.Redshift{f.ep.Endpoint(): f.ep}
	c := &connector{cfg: f.ep, api: client}
	for i := 0; i < 3; i++ {
		conn, err := c.Connect(context.Background())
		if err != nil {
			t.Fatalf("connect %d: %v", i, err)
		}
		conn.Close()
	}
	if n := calls.Load(); n != 2 {
		t.Fatalf("GetClusterCredentials called %d times; want 2 (the first credentials expire within the refresh margin)", n)
	}
	j := f.job(t, "tc/1", 1)
	b := f.batch(j)
	b.Dest.Endpoint = f.ep.Endpoint()
	if _, err := f.copier.Copy(context.Background(), b); err != nil {
		t.Fatalf("copy with temporary credentials: %v", err)
	}
}

func startSimWithPassword(t *testing.T, password string) string {
	t.Helper()
	addr, err := shared.Get(t).StartSimulator(password)
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

func splitHostPort(t *testing.T, addr string) (string, int) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return h, n
}

// reconnect_on_error: after a failed COPY the pool keeps no connection, so
// the next batch starts on a fresh one; without it the connection is reused.
func TestReconnectOnError(t *testing.T) {
	for _, reconnect := range []bool{false, true} {
		f := newFixture(t, "pw", nil)
		f.ep.ReconnectOnError = reconnect
		f.copier.opts.Endpoints[f.ep.Endpoint()] = f.ep
		j := f.job(t, "r/1", 1)
		must(t, f.st.FailNextCopies(1, "57P01", "terminating connection due to administrator command"))
		if _, err := f.copier.Copy(context.Background(), f.batch(j)); err == nil {
			t.Fatal("injected failure did not fail the COPY")
		}
		db, err := f.copier.DB(f.ep.Endpoint())
		if err != nil {
			t.Fatal(err)
		}
		open := db.Stats().OpenConnections
		if reconnect && open != 0 || !reconnect && open == 0 {
			t.Errorf("reconnect_on_error=%v: %d connections left open after the failure", reconnect, open)
		}
	}
}
