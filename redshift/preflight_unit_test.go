package redshift

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/redshiftdata"
	"github.com/aws/aws-sdk-go-v2/service/redshiftdata/types"
	"github.com/lib/pq"

	"github.com/rinhq/rin/config"
)

// scriptedDataAPI answers a BatchExecuteStatement with a statement that
// runs for runFor, then ends as end says; it records cancellations.
type scriptedDataAPI struct {
	DataAPI // other calls: not expected
	runFor  time.Duration
	end     *redshiftdata.DescribeStatementOutput

	mu        sync.Mutex
	submitted time.Time
	sqls      []string
	cancelled []string
	describes int
}

func (a *scriptedDataAPI) BatchExecuteStatement(_ context.Context, in *redshiftdata.BatchExecuteStatementInput, _ ...func(*redshiftdata.Options)) (*redshiftdata.BatchExecuteStatementOutput, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.submitted, a.sqls = time.Now(), in.Sqls
	return &redshiftdata.BatchExecuteStatementOutput{Id: aws.String("st-1")}, nil
}

func (a *scriptedDataAPI) DescribeStatement(_ context.Context, in *redshiftdata.DescribeStatementInput, _ ...func(*redshiftdata.Options)) (*redshiftdata.DescribeStatementOutput, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.describes++
	if a.end == nil || time.Since(a.submitted) < a.runFor {
		return &redshiftdata.DescribeStatementOutput{Id: in.Id, Status: types.StatusStringStarted}, nil
	}
	return a.end, nil
}

func (a *scriptedDataAPI) CancelStatement(_ context.Context, in *redshiftdata.CancelStatementInput, _ ...func(*redshiftdata.Options)) (*redshiftdata.CancelStatementOutput, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cancelled = append(a.cancelled, aws.ToString(in.Id))
	return &redshiftdata.CancelStatementOutput{Status: aws.Bool(true)}, nil
}

// failedAt is a batch of two statements that failed at index i (the
// statement after it aborted, as the Data API reports).
func failedAt(i int, msg string) *redshiftdata.DescribeStatementOutput {
	subs := []types.SubStatementData{{Status: types.StatementStatusStringFinished}, {Status: types.StatementStatusStringAborted}}
	subs[i].Status, subs[i].Error = types.StatementStatusStringFailed, aws.String(msg)
	return &redshiftdata.DescribeStatementOutput{Id: aws.String("st-1"), Status: types.StatusStringFailed, Error: aws.String(msg), SubStatements: subs}
}

// TestDataSessionRolledBack: over the Data API, RolledBack sends the
// statement with one that must fail after it, in one batch (one
// transaction), polls until the batch ends, and reports only the
// statement's own failure; when the context ends first it cancels the
// batch. Pure logic on a scripted client, so in a synctest bubble: the
// polls' backoff (100 ms to 2 s) takes no real time.
func TestDataSessionRolledBack(t *testing.T) {
	r := config.Redshift{Driver: config.DriverRedshiftData, Cluster: "c", User: "u", DBName: "dev"}
	for _, tc := range []struct {
		name    string
		end     *redshiftdata.DescribeStatementOutput
		timeout time.Duration
		check   func(t *testing.T, err error, api *scriptedDataAPI)
	}{
		{"the rollback statement ends the batch", failedAt(1, "ERROR: division by zero"), time.Minute, func(t *testing.T, err error, api *scriptedDataAPI) {
			if err != nil {
				t.Errorf("RolledBack: %v, want nil", err)
			}
		}},
		{"the statement fails", failedAt(0, `ERROR: relation "s.missing" does not exist`), time.Minute, func(t *testing.T, err error, api *scriptedDataAPI) {
			if err == nil || SQLState(err) != "42P01" || !strings.Contains(err.Error(), "at statement 1") {
				t.Errorf("RolledBack: %v (SQLSTATE %q), want statement 1's missing relation", err, SQLState(err))
			}
		}},
		{"nothing fails", &redshiftdata.DescribeStatementOutput{Id: aws.String("st-1"), Status: types.StatusStringFinished}, time.Minute, func(t *testing.T, err error, api *scriptedDataAPI) {
			if err == nil || !strings.Contains(err.Error(), "may have committed") {
				t.Errorf("RolledBack: %v, want an error saying the batch may have committed", err)
			}
		}},
		{"the context ends first", nil, 5 * time.Second, func(t *testing.T, err error, api *scriptedDataAPI) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("RolledBack: %v, want the context's deadline", err)
			}
			if len(api.cancelled) != 1 || api.cancelled[0] != "st-1" {
				t.Errorf("cancelled %v, want [st-1]", api.cancelled)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api := &scriptedDataAPI{runFor: 30 * time.Second, end: tc.end}
				s := OpenSession(r, SessionAPIs{DataAPI: api})
				defer s.Close()
				ctx, cancel := context.WithTimeout(t.Context(), tc.timeout)
				defer cancel()
				start := time.Now()
				err := s.RolledBack(ctx, "COPY x")
				api.mu.Lock()
				defer api.mu.Unlock()
				if len(api.sqls) != 2 || api.sqls[0] != "COPY x" || api.sqls[1] != rollbackSQL {
					t.Fatalf("batch %q, want the statement then %q", api.sqls, rollbackSQL)
				}
				took := time.Since(start)
				if tc.end != nil && (took < api.runFor || took > api.runFor+2*time.Second) {
					t.Errorf("returned after %s; the batch ended after %s (polls at most 2s apart)", took, api.runFor)
				}
				if tc.end != nil && api.describes > 30 {
					t.Errorf("%d DescribeStatement calls in %s: the polls did not back off", api.describes, took)
				}
				tc.check(t, err, api)
			})
		})
	}
}

// TestSQLState: the Data API's failed statements carry only the
// database's message; SQLState reads the codes doctor's fixes depend on
// from it, and passes lib/pq's own code through.
func TestSQLState(t *testing.T) {
	stmt := func(msg string) error {
		return fmt.Errorf("check: %w", &statementError{id: "i", status: "FAILED", message: msg, failed: 0})
	}
	for _, c := range []struct {
		err  error
		want string
	}{
		{stmt(`ERROR: relation "s.t" does not exist`), "42P01"},
		{stmt(`ERROR: schema "s" does not exist`), "3F000"},
		{stmt(`ERROR: database "dev2" does not exist`), "3D000"},
		{stmt("ERROR: permission denied for relation t"), "42501"},
		{stmt(`ERROR: password authentication failed for user "rin"`), "28P01"},
		{stmt("ERROR: division by zero"), ""},
		{fmt.Errorf("x: %w", &pq.Error{Code: "42501"}), "42501"},
		{errors.New(`relation "s.t" does not exist`), ""}, // not a statement's: no guess
		{nil, ""},
	} {
		if got := SQLState(c.err); got != c.want {
			t.Errorf("SQLState(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
