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
	const permanent, bad, transient = "permanent", "bad object", "transient"
	for _, c := range []struct {
		err  error
		want string
	}{
		{stmt("COPY", `ERROR: relation "s.t" does not exist`), permanent},
		{stmt("COPY", "ERROR: Load into table 't' failed. Check 'sys_load_error_detail' system table for details."), bad},
		{stmt("COPY", "ERROR: Manifest file entry 's3://b/k' is mandatory but the S3 object does not exist"), bad},
		{stmt("COPY", `ERROR: invalid input syntax for type integer: "x"`), bad},
		{stmt("INSERT ledger", `ERROR: invalid input syntax for type timestamp`), permanent},
		{stmt("COPY", "ERROR: permission denied for relation t"), permanent},
		{stmt("LOCK ledger", "ERROR: cannot execute LOCK in a read-only transaction"), transient},
		{stmt("COPY", "ERROR: 1023 Serializable isolation violation on table"), transient},
		{stmt("COPY", "ERROR: something new"), transient},
		{&statementError{status: "ABORTED", message: "Query cancelled by user.", failed: -1}, transient},
		{&statementError{status: "FAILED", message: "ERROR: division by zero", failed: 2, isGuard: true}, transient},
		{fmt.Errorf("x: %w", &types.ValidationException{Message: new(string)}), permanent},
		{&types.ActiveStatementsExceededException{}, transient},
		{&smithy.GenericAPIError{Code: "ThrottlingException"}, transient},
		{http5xx, transient},
		{&outcomeUnknown{id: "i", err: &types.ResourceNotFoundException{}}, transient},
		{errors.New("dial tcp: connection refused"), transient},
	} {
		got := classifyDataAPI(c.err)
		kind := transient
		switch {
		case errors.Is(got, fsm.ErrBadObject):
			kind = bad
		case fsm.IsPermanent(got):
			kind = permanent
		}
		if kind != c.want {
			t.Errorf("%v: %s, want %s", c.err, kind, c.want)
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
	if len(p.sqls) != 4 || p.guard != 2 || len(p.copies) != 1 || p.copies[0] != 3 {
		t.Fatalf("plan %q", p.sqls)
	}
	if !strings.Contains(p.sqls[1], `'s3://b/it''s; DROP TABLE x; --\\'`) {
		t.Errorf("insert does not quote the key: %s", p.sqls[1])
	}
	if !strings.Contains(p.sqls[2], "IN ('id1')) > 1 THEN 0") {
		t.Errorf("guard: %s", p.sqls[2])
	}
	for i, s := range p.redacted {
		if strings.Contains(s, "SECRET") {
			t.Errorf("logged statement %d shows the secret", i)
		}
	}
	if !strings.Contains(p.sqls[3], `COPY "s"."t""x" FROM 's3://b/m.manifest'`) || !strings.Contains(p.sqls[3], "SECRET") {
		t.Errorf("copy: %s", p.sqls[3])
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
	if _, err := d.Copy(context.Background(), fsm.Batch{Dest: fsm.Destination{Endpoint: "gone"}}); !fsm.IsPermanent(err) {
		t.Fatalf("unknown endpoint: %v", err)
	}
}
