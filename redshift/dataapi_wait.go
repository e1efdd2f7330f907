package redshift

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/redshiftdata"
	"github.com/aws/aws-sdk-go-v2/service/redshiftdata/types"
)

// describeRetries bounds consecutive DescribeStatement failures (after the
// SDK's own retries) before a wait gives up with the outcome unknown.
const describeRetries = 5

// wait polls statement id until it is over, backing off from PollMin to
// PollMax. kinds names the statements of a batch and guard is the index of
// its ledger guard (-1: none), for the error. When ctx ends first, the
// statement is cancelled (best effort) and ctx's error returned.
func (c *DataAPICopier) wait(ctx context.Context, id string, kinds []string, guard int) (*redshiftdata.DescribeStatementOutput, error) {
	delay := c.opts.PollMin
	failures := 0
	for {
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			c.cancel(id)
			return nil, fmt.Errorf("Data API statement %s: %w", id, ctx.Err())
		case <-t.C:
		}
		delay = min(delay*3/2, c.opts.PollMax)
		d, err := c.opts.Client.DescribeStatement(ctx, &redshiftdata.DescribeStatementInput{Id: aws.String(id)})
		if err != nil {
			if failures++; failures < describeRetries && ctx.Err() == nil {
				continue
			}
			return nil, &outcomeUnknown{id: id, err: err}
		}
		failures = 0
		switch d.Status {
		case types.StatusStringFinished:
			return d, nil
		case types.StatusStringFailed, types.StatusStringAborted:
			return nil, newStatementError(id, d, kinds, guard)
		}
	}
}

// cancel asks the Data API to stop a statement rin no longer waits for.
// Its transaction then rolls back; if it committed first, the ledger says
// so on the next attempt.
func (c *DataAPICopier) cancel(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.opts.Client.CancelStatement(ctx, &redshiftdata.CancelStatementInput{Id: aws.String(id)}); err != nil {
		c.log.Debug("could not cancel Data API statement (it may have ended)", "statement_id", id, "err", err)
	}
}

// statementError is a statement (or batch) that ended FAILED or ABORTED.
// The Data API gives only the database's message, no SQLSTATE.
type statementError struct {
	id      string
	status  string
	message string
	failed  int    // index of the failed sub-statement; -1 if unknown
	kind    string // what the failed statement was ("COPY", ...); "" if unknown
	isGuard bool
}

func newStatementError(id string, d *redshiftdata.DescribeStatementOutput, kinds []string, guard int) *statementError {
	e := &statementError{id: id, status: string(d.Status), message: aws.ToString(d.Error), failed: -1}
	for i, s := range d.SubStatements {
		if s.Status == types.StatementStatusStringFailed {
			e.failed = i
			if e.message == "" {
				e.message = aws.ToString(s.Error)
			}
			break
		}
	}
	if e.failed >= 0 && e.failed < len(kinds) {
		e.kind = kinds[e.failed]
	} else if len(kinds) == 1 {
		e.failed, e.kind = 0, kinds[0]
	}
	msg := strings.ToLower(e.message)
	e.isGuard = guard >= 0 && (e.failed == guard ||
		(e.failed < 0 && (strings.Contains(msg, "division by zero") || strings.Contains(msg, "divide by zero"))))
	return e
}

// guard reports whether the ledger guard aborted the batch.
func (e *statementError) guard() bool { return e.isGuard }

func (e *statementError) Error() string {
	where := ""
	if e.failed >= 0 {
		where = fmt.Sprintf(" at statement %d", e.failed+1)
		if e.kind != "" {
			where += " (" + e.kind + ")"
		}
	}
	return fmt.Sprintf("Data API statement %s %s%s: %s", e.id, e.status, where, e.message)
}

// outcomeUnknown is a wait that could not learn how its statement ended.
// Always transient: the ledger settles it on the next attempt.
type outcomeUnknown struct {
	id  string
	err error
}

func (e *outcomeUnknown) Error() string {
	return fmt.Sprintf("Data API statement %s: outcome unknown (the ledger will tell on retry): %v", e.id, e.err)
}

func (e *outcomeUnknown) Unwrap() error { return e.err }
