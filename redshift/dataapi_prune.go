package redshift

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/redshiftdata"
)

// maybePrune prunes through the Data API: one batch, one transaction,
// under the table's guard (see the package-level maybePrune).
func (c *DataAPICopier) maybePrune(endpoint string, db target, names ...string) {
	keep, every := pruneWindow(c.opts.Ledger)
	maybePrune(pruneJob{
		schedule: &c.prunes, bg: &c.bg, closing: c.closing, bound: c.timeouts.backstop(), log: c.log,
		legacy:      c.ledger.legacyName(),
		prune:       func(ctx context.Context, name, cutoff string) (int64, error) { return c.prune(ctx, db, name, cutoff) },
		legacyHolds: func(ctx context.Context) (bool, error) { return c.legacyHolds(ctx, db) },
		legacyDone:  func() { c.legacy.set(endpoint, false) },
	}, keep, every, endpoint, names...)
}

// prune deletes ledger table name's rows loaded before cutoff, under the
// table's guard, and returns how many. A batch takes no parameters: the
// cutoff is rin's own timestamp, quoted.
func (c *DataAPICopier) prune(ctx context.Context, db target, name, cutoff string) (int64, error) {
	ms := func(d time.Duration) string { return strconv.FormatInt(max(d.Milliseconds(), 1), 10) }
	sqls := []string{
		"SET statement_timeout TO " + ms(c.timeouts.Lock),
		"LOCK " + name,
		"SET statement_timeout TO " + ms(c.timeouts.Copy),
		"DELETE FROM " + name + " WHERE loaded_at < CAST(" + quoteLiteral(cutoff) + " AS TIMESTAMP)",
	}
	out, err := c.opts.Client.BatchExecuteStatement(ctx, &redshiftdata.BatchExecuteStatementInput{
		Sqls: sqls, Database: aws.String(db.database), ClusterIdentifier: optional(db.cluster),
		DbUser: optional(db.user), WorkgroupName: optional(db.workgroup), StatementName: aws.String("rin prune"),
	})
	if err != nil {
		return 0, fmt.Errorf("BatchExecuteStatement: %w", err)
	}
	d, err := c.wait(ctx, aws.ToString(out.Id), []string{"SET statement_timeout", "LOCK ledger", "SET statement_timeout", "DELETE ledger"}, -1)
	if err != nil {
		return 0, err
	}
	if len(d.SubStatements) == len(sqls) {
		return max(d.SubStatements[len(sqls)-1].ResultRows, 0), nil
	}
	return 0, nil
}
