package redshift

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/redshiftdata/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/journal"
)

func TestClassifyDataAPI(t *testing.T) {
	stmt := func(kind, msg string) error {
		return &statementError{id: "i", status: "FAILED", message: msg, failed: 3, kind: kind}
	}
	http5xx := &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 503}},
		Err:      &smithy.GenericAPIError{Code: "ServiceUnavailable", Message: "try later"},
	}}
	for _, c := range []struct {
		err  error
		want fsm.Scope
	}{
		{stmt("COPY", `ERROR: relation "s.t" does not exist`), fsm.ScopeTable},
		{stmt("COPY", "ERROR: Load into table 't' failed. Check 'sys_load_error_detail' system table for details."), fsm.ScopeObject},
		{stmt("COPY", "ERROR: Manifest file entry 's3://b/k' is mandatory but the S3 object does not exist"), fsm.ScopeObject},
		{stmt("COPY", `ERROR: invalid input syntax for type integer: "x"`), fsm.ScopeObject},
		{stmt("INSERT ledger", `ERROR: invalid input syntax for type timestamp`), fsm.ScopeStatement},
		{stmt("COPY", "ERROR: permission denied for relation t"), fsm.ScopeTable},
		{stmt("COPY", "ERROR: Problem reading manifest file - S3ServiceException:Access Denied,Status 403,Error AccessDenied,Rid X,ExtRid Y,CanRetry 1"), fsm.ScopeBucket},
		{stmt("COPY", "ERROR: User arn:aws:redshift:us-east-1:123456789012:dbuser:c/rin is not authorized to assume IAM Role arn:aws:iam::123456789012:role/r"), fsm.ScopeCredentials},
		{stmt("LOCK ledger", "ERROR: cannot execute LOCK in a read-only transaction"), fsm.ScopeEndpoint},
		{stmt("COPY", "ERROR: 1023 Serializable isolation violation on table"), fsm.ScopeStatement},
		{stmt("COPY", "ERROR: something new"), fsm.ScopeStatement},
		{&statementError{status: "ABORTED", message: "Query cancelled by user.", failed: -1}, fsm.ScopeStatement},
		{&statementError{status: "FAILED", message: "ERROR: division by zero", failed: 2, isGuard: true}, fsm.ScopeStatement},
		{fmt.Errorf("x: %w", &types.ValidationException{Message: new(string)}), fsm.ScopeTable},
		{&types.ActiveStatementsExceededException{}, fsm.ScopeStatement},
		{&smithy.GenericAPIError{Code: "ThrottlingException"}, fsm.ScopeStatement},
		{http5xx, fsm.ScopeEndpoint},
		{&outcomeUnknown{id: "i", err: &types.ResourceNotFoundException{}}, fsm.ScopeEndpoint},
		{errors.New("dial tcp: connection refused"), fsm.ScopeEndpoint},
	} {
		if got := fsm.ScopeOf(classifyDataAPI(c.err)); got != c.want {
			t.Errorf("%v: %s, want %s", c.err, got, c.want)
		}
	}
	if err := classifyDataAPI(context.Canceled); err != context.Canceled {
		t.Errorf("context error changed: %v", err)
	}
}

// Values in the batch are quoted literals: hostile keys stay data. The
// credentials appear only in the COPY, and masked in the logged form.
func TestDataAPIPlanQuoting(t *testing.T) {
	c := NewDataAPI(DataAPIOptions{Ledger: config.Ledger{Schema: "s", Table: "rin_ledger"}})
	j := journal.Job{ID: "id1", Bucket: "b", Key: `it's; DROP TABLE x; --\`, Target: "targets[0]"}
	b := fsm.Batch{ID: "B", Dest: fsm.Destination{Schema: "s", Table: `t"x`, Manifest: true}, Jobs: []journal.Job{j}}
	p := c.plan(b, b.Jobs, "s3://b/m.manifest", "aws_access_key_id=A;aws_secret_access_key=SECRET", time.Unix(0, 0))
	// SET statement_timeout (lock), LOCK, SET statement_timeout (COPY),
	// INSERT, guard, COPY.
	if len(p.sqls) != 6 || p.lock != 1 || p.guard != 4 || len(p.copies) != 1 || p.copies[0] != 5 {
		t.Fatalf("plan %q", p.sqls)
	}
	ledger := `"s"."` + c.ledger.tableFor("s", `t"x`) + `"`
	if p.sqls[0] != "SET statement_timeout TO 600000" || p.sqls[1] != "LOCK "+ledger || p.sqls[2] != "SET statement_timeout TO 3600000" {
		t.Errorf("guard and timeouts: %q", p.sqls[:3])
	}
	if !strings.Contains(p.sqls[3], `'s3://b/it''s; DROP TABLE x; --\\'`) || !strings.HasPrefix(p.sqls[3], "INSERT INTO "+ledger) {
		t.Errorf("insert does not quote the key, or goes elsewhere: %s", p.sqls[3])
	}
	// Every id the job may have been recorded under, then one row per job.
	if ids := j.IDs(); len(ids) != 3 || !strings.Contains(p.sqls[4], "IN ('id1','"+ids[1]+"','"+ids[2]+"')) > 1 THEN 0") {
		t.Errorf("guard: %s", p.sqls[4])
	}
	for i, s := range p.redacted {
		if strings.Contains(s, "SECRET") {
			t.Errorf("logged statement %d shows the secret", i)
		}
	}
	if !strings.Contains(p.sqls[5], `COPY "s"."t""x" FROM 's3://b/m.manifest'`) || !strings.Contains(p.sqls[5], "SECRET") {
		t.Errorf("copy: %s", p.sqls[5])
	}
}

// A batch too big for one request is cut into parts that fit.
func TestDataAPIPlanFits(t *testing.T) {
	c := NewDataAPI(DataAPIOptions{Ledger: config.Ledger{Schema: "s", Table: "rin_ledger"}})
	jobs := make([]journal.Job, 3000)
	for i := range jobs {
		jobs[i] = journal.Job{ID: fmt.Sprintf("%032d", i), Bucket: "b", Key: strings.Repeat("k", 200) + fmt.Sprint(i)}
	}
	b := fsm.Batch{ID: "B", Dest: fsm.Destination{Table: "t", Manifest: true}, Jobs: jobs}
	if p := c.plan(b, jobs, "s3://b/m", "", time.Now()); p.fits() {
		t.Fatal("3000 jobs fit one request?")
	}
	if p := c.plan(b, jobs[:700], "s3://b/m", "", time.Now()); !p.fits() || len(p.sqls) < 5 {
		t.Fatalf("700 jobs: %d statements, fits %v", len(p.sqls), p.fits())
	}
	b.Dest.Manifest = false
	if p := c.plan(b, jobs[:50], "", "", time.Now()); p.fits() {
		t.Fatal("50 prefix COPYs fit one batch of at most 40 statements?")
	}
}

type copierFunc func(context.Context, fsm.Batch) (fsm.Result, error)

func (f copierFunc) Copy(ctx context.Context, b fsm.Batch) (fsm.Result, error) { return f(ctx, b) }

func TestDispatch(t *testing.T) {
	d := Dispatch{"e1": copierFunc(func(context.Context, fsm.Batch) (fsm.Result, error) { return fsm.Result{Rows: 7}, nil })}
	if res, err := d.Copy(context.Background(), fsm.Batch{Dest: fsm.Destination{Endpoint: "e1"}}); err != nil || res.Rows != 7 {
		t.Fatalf("e1: %v %v", res, err)
	}
	if _, err := d.Copy(context.Background(), fsm.Batch{Dest: fsm.Destination{Endpoint: "gone"}}); fsm.ScopeOf(err) != fsm.ScopeEndpoint || !strings.Contains(err.Error(), "not in the config") {
		t.Fatalf("unknown endpoint: %v", err)
	}
}
