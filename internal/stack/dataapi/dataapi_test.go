package dataapi_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/redshiftdata"
	"github.com/aws/aws-sdk-go-v2/service/redshiftdata/types"
	"github.com/aws/smithy-go"
	"github.com/jackc/pgx/v5"

	"github.com/rinhq/rin/internal/stack/dataapi"
	"github.com/rinhq/rin/internal/stack/stacktest"
)

var shared stacktest.Shared

func TestMain(m *testing.M) { stacktest.Main(m, &shared) }

// fixture is a stand-in on the shared stack, a client for it, and a schema
// of the test's own.
type fixture struct {
	srv    *dataapi.Server
	api    *redshiftdata.Client
	schema string
}

func newFixture(t *testing.T, cfg dataapi.Config) *fixture {
	t.Helper()
	st := shared.Get(t)
	cfg.Backend = st.RedshiftDSN()
	srv, err := dataapi.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	f := &fixture{srv: srv, schema: stacktest.Name("s")}
	f.api = redshiftdata.New(redshiftdata.Options{
		BaseEndpoint: aws.String(srv.Endpoint()), Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIATEST", "secret", ""),
	})
	stacktest.NewTable(t, st, f.schema, "t", "id int, name varchar(64)")
	return f
}

func (f *fixture) table() string { return pgx.Identifier{f.schema, "t"}.Sanitize() }

var cluster = dataapi.Config{}

func exec(sql string, params ...types.SqlParameter) *redshiftdata.ExecuteStatementInput {
	return &redshiftdata.ExecuteStatementInput{
		Sql: aws.String(sql), Parameters: params,
		ClusterIdentifier: aws.String("x"), DbUser: aws.String("rin"), Database: aws.String("dev"),
	}
}

func batch(sqls ...string) *redshiftdata.BatchExecuteStatementInput {
	return &redshiftdata.BatchExecuteStatementInput{
		Sqls: sqls, WorkgroupName: aws.String("wg"), Database: aws.String("dev"),
	}
}

// wait polls DescribeStatement until the statement is over.
func (f *fixture) wait(t *testing.T, id *string) *redshiftdata.DescribeStatementOutput {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := f.api.DescribeStatement(t.Context(), &redshiftdata.DescribeStatementInput{Id: id})
		if err != nil {
			t.Fatalf("describe: %v", err)
		}
		switch out.Status {
		case types.StatusStringFinished, types.StatusStringFailed, types.StatusStringAborted:
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("statement %s still %s", *id, out.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (f *fixture) run(t *testing.T, in *redshiftdata.ExecuteStatementInput) *redshiftdata.DescribeStatementOutput {
	t.Helper()
	out, err := f.api.ExecuteStatement(t.Context(), in)
	if err != nil {
		t.Fatalf("execute: %v", err)
	}
	return f.wait(t, out.Id)
}

func (f *fixture) runBatch(t *testing.T, in *redshiftdata.BatchExecuteStatementInput) *redshiftdata.DescribeStatementOutput {
	t.Helper()
	out, err := f.api.BatchExecuteStatement(t.Context(), in)
	if err != nil {
		t.Fatalf("batch: %v", err)
	}
	return f.wait(t, out.Id)
}

func (f *fixture) count(t *testing.T) int64 {
	t.Helper()
	d := f.run(t, exec("SELECT count(*) FROM "+f.table()))
	res, err := f.api.GetStatementResult(t.Context(), &redshiftdata.GetStatementResultInput{Id: d.Id})
	if err != nil {
		t.Fatal(err)
	}
	return res.Records[0][0].(*types.FieldMemberLongValue).Value
}

// Named parameters bind as literals (quotes and backslashes are data), and
// results come back typed and paged.
func TestExecuteParametersAndTypedResults(t *testing.T) {
	f := newFixture(t, dataapi.Config{PageSize: 2})
	d := f.run(t, exec("INSERT INTO "+f.table()+" VALUES (:id, :name), (2, NULL), (3, 'c'), (4, 'd')",
		types.SqlParameter{Name: aws.String("id"), Value: aws.String("1")},
		types.SqlParameter{Name: aws.String("name"), Value: aws.String(`it's a \back:slash`)}))
	if d.Status != types.StatusStringFinished || d.ResultRows != 4 || d.HasResultSet == nil || *d.HasResultSet {
		t.Fatalf("insert: %s %q rows %d", d.Status, aws.ToString(d.Error), d.ResultRows)
	}
	d = f.run(t, exec("SELECT id, name, id::float8 / 2 AS half, id > 1 AS big, 'x'::text || ':name' AS lit FROM "+f.table()+" ORDER BY id"))
	if d.Status != types.StatusStringFinished || !*d.HasResultSet || d.ResultRows != 4 {
		t.Fatalf("select: %s %q", d.Status, aws.ToString(d.Error))
	}
	var recs [][]types.Field
	var cols []types.ColumnMetadata
	p := redshiftdata.NewGetStatementResultPaginator(f.api, &redshiftdata.GetStatementResultInput{Id: d.Id})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		recs, cols = append(recs, page.Records...), page.ColumnMetadata
	}
	if pages != 2 || len(recs) != 4 || len(cols) != 5 || aws.ToString(cols[0].Name) != "id" || aws.ToString(cols[0].TypeName) != "int4" {
		t.Fatalf("%d pages, %d records, columns %+v", pages, len(recs), cols)
	}
	if v := recs[0][1].(*types.FieldMemberStringValue).Value; v != `it's a \back:slash` {
		t.Errorf("parameter value came back as %q", v)
	}
	if _, ok := recs[1][1].(*types.FieldMemberIsNull); !ok {
		t.Errorf("NULL came back as %T", recs[1][1])
	}
	if v := recs[2][2].(*types.FieldMemberDoubleValue).Value; v != 1.5 {
		t.Errorf("double %v", v)
	}
	if v := recs[3][3].(*types.FieldMemberBooleanValue).Value; !v {
		t.Errorf("bool %v", v)
	}
	if v := recs[0][4].(*types.FieldMemberStringValue).Value; v != "x:name" {
		t.Errorf("':name' inside a literal was bound: %q", v)
	}
}

// A batch is one transaction: a failing statement rolls back those before
// it, carries the error, and the ones after it are aborted.
func TestBatchIsOneTransaction(t *testing.T) {
	f := newFixture(t, cluster)
	tbl := f.table()
	d := f.runBatch(t, batch("INSERT INTO "+tbl+" VALUES (1, 'a')", "INSERT INTO "+tbl+" VALUES (2, 'b')", "SELECT 1/0", "INSERT INTO "+tbl+" VALUES (3, 'c')"))
	if d.Status != types.StatusStringFailed || !strings.Contains(aws.ToString(d.Error), "division by zero") {
		t.Fatalf("batch: %s %q", d.Status, aws.ToString(d.Error))
	}
	var statuses []string
	for _, s := range d.SubStatements {
		statuses = append(statuses, string(s.Status))
	}
	if strings.Join(statuses, ",") != "FINISHED,FINISHED,FAILED,ABORTED" || !strings.HasSuffix(*d.SubStatements[2].Id, ":3") ||
		!strings.Contains(aws.ToString(d.SubStatements[2].Error), "division by zero") {
		t.Fatalf("sub-statements %v; third %s %q", statuses, aws.ToString(d.SubStatements[2].Id), aws.ToString(d.SubStatements[2].Error))
	}
	if n := f.count(t); n != 0 {
		t.Fatalf("%d rows after a failed batch; want 0", n)
	}

	d = f.runBatch(t, batch("LOCK "+tbl, "INSERT INTO "+tbl+" VALUES (1, 'a'), (2, 'b')", "SELECT count(*) FROM "+tbl))
	if d.Status != types.StatusStringFinished || d.SubStatements[1].ResultRows != 2 {
		t.Fatalf("batch: %s %q %+v", d.Status, aws.ToString(d.Error), d.SubStatements)
	}
	res, err := f.api.GetStatementResult(t.Context(), &redshiftdata.GetStatementResultInput{Id: d.SubStatements[2].Id})
	if err != nil || res.Records[0][0].(*types.FieldMemberLongValue).Value != 2 {
		t.Fatalf("result of sub-statement 3: %+v %v", res, err)
	}
}

// Redshift's COPY from S3 works through a batch (the simulator rewrites it
// inside the batch's transaction) and reports the rows loaded.
func TestBatchCopy(t *testing.T) {
	f := newFixture(t, cluster)
	st := shared.Get(t)
	bucket := stacktest.NewBucket(t, st)
	if _, _, err := st.S3().PutObject(t.Context(), bucket, "a.json", []byte(`{"id":1,"name":"x"}`+"\n"+`{"id":2,"name":"y"}`)); err != nil {
		t.Fatal(err)
	}
	d := f.runBatch(t, batch("COPY "+f.table()+" FROM 's3://"+bucket+"/a.json' CREDENTIALS 'aws_access_key_id=A;aws_secret_access_key=B' JSON 'auto'"))
	if d.Status != types.StatusStringFinished || d.SubStatements[0].ResultRows != 2 || f.count(t) != 2 {
		t.Fatalf("copy: %s %q %+v", d.Status, aws.ToString(d.Error), d.SubStatements)
	}
	d = f.runBatch(t, batch("COPY "+f.table()+" FROM 's3://"+bucket+"/missing.manifest' CREDENTIALS 'aws_iam_role=arn:aws:iam::1:role/r' MANIFEST JSON 'auto'"))
	if d.Status != types.StatusStringFailed || f.count(t) != 2 {
		t.Fatalf("copy of a missing manifest: %s %q", d.Status, aws.ToString(d.Error))
	}
}

// Requests the real service refuses are refused with its error types.
func TestValidation(t *testing.T) {
	f := newFixture(t, dataapi.Config{Database: "dev"})
	ctx := t.Context()
	for name, in := range map[string]*redshiftdata.ExecuteStatementInput{
		"no database":          {Sql: aws.String("SELECT 1"), WorkgroupName: aws.String("wg")},
		"cluster without user": {Sql: aws.String("SELECT 1"), ClusterIdentifier: aws.String("x"), Database: aws.String("dev")},
		"no cluster":           {Sql: aws.String("SELECT 1"), DbUser: aws.String("rin"), Database: aws.String("dev")},
		"both":                 {Sql: aws.String("SELECT 1"), ClusterIdentifier: aws.String("x"), DbUser: aws.String("u"), WorkgroupName: aws.String("w"), Database: aws.String("dev")},
		"unbound parameter":    exec("SELECT :x"),
		"too long":             exec("SELECT '" + strings.Repeat("x", dataapi.MaxSQLBytes) + "'"),
	} {
		_, err := f.api.ExecuteStatement(ctx, in)
		var ve *types.ValidationException
		if !errors.As(err, &ve) {
			t.Errorf("%s: %v; want a ValidationException", name, err)
		}
	}
	_, err := f.api.BatchExecuteStatement(ctx, batch(make([]string, dataapi.MaxBatchStatement+1)...))
	var ve *types.ValidationException
	if !errors.As(err, &ve) {
		t.Errorf("41 statements: %v", err)
	}
	_, err = f.api.DescribeStatement(ctx, &redshiftdata.DescribeStatementInput{Id: aws.String("00000000-0000-4000-8000-000000000000")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("unknown id: %v", err)
	}
	in := exec("SELECT 1")
	in.Database = aws.String("other")
	if d := f.run(t, in); d.Status != types.StatusStringFailed || !strings.Contains(aws.ToString(d.Error), "does not exist") {
		t.Errorf("other database: %s %q", d.Status, aws.ToString(d.Error))
	}
	var api smithy.APIError
	if res, err := f.api.GetStatementResult(ctx, &redshiftdata.GetStatementResultInput{Id: f.run(t, exec("SELECT 1 AS one WHERE false")).Id}); err != nil || len(res.Records) != 0 || len(res.ColumnMetadata) != 1 {
		t.Errorf("result of an empty SELECT: %+v, %v", res, err)
	}
	if _, err := f.api.GetStatementResult(ctx, &redshiftdata.GetStatementResultInput{Id: f.run(t, exec("LOCK "+f.table())).Id}); !errors.As(err, &api) {
		t.Errorf("result of a statement without a result set: %v", err)
	}
}

// CancelStatement aborts a running batch and rolls it back; a submission
// retried with the same ClientToken is the same statement.
func TestCancelAndClientToken(t *testing.T) {
	f := newFixture(t, cluster)
	in := batch("INSERT INTO "+f.table()+" VALUES (1, 'a')", "SELECT pg_sleep(30)")
	in.ClientToken = aws.String("token-1")
	out, err := f.api.BatchExecuteStatement(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := f.api.BatchExecuteStatement(t.Context(), in)
	if err != nil || *again.Id != *out.Id || f.srv.Submitted() != 1 {
		t.Fatalf("same ClientToken: id %v vs %v, %d submitted, %v", *again.Id, *out.Id, f.srv.Submitted(), err)
	}
	// Cancel once the INSERT is done and the sleep runs: the cancel must
	// roll back what the batch already did.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		d, err := f.api.DescribeStatement(t.Context(), &redshiftdata.DescribeStatementInput{Id: out.Id})
		if err != nil {
			t.Fatal(err)
		}
		if len(d.SubStatements) == 2 && d.SubStatements[0].Status == types.StatementStatusStringFinished && d.SubStatements[1].Status == types.StatementStatusStringStarted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the batch never reached its second statement: %s %+v", d.Status, d.SubStatements)
		}
	}
	c, err := f.api.CancelStatement(t.Context(), &redshiftdata.CancelStatementInput{Id: out.Id})
	if err != nil || !*c.Status {
		t.Fatalf("cancel: %+v %v", c, err)
	}
	start := time.Now()
	d := f.wait(t, out.Id)
	if d.Status != types.StatusStringAborted || time.Since(start) > 10*time.Second || f.count(t) != 0 {
		t.Fatalf("after cancel: %s %q after %s", d.Status, aws.ToString(d.Error), time.Since(start))
	}
	if _, err := f.api.CancelStatement(context.Background(), &redshiftdata.CancelStatementInput{Id: out.Id}); err == nil {
		t.Error("cancelling a finished statement succeeded")
	}
}
