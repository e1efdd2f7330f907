package redshift

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/redshiftdata"

	"github.com/rinhq/rin/config"
)

// maybePrune is Copier.maybePrune through the Data API (prune.go): one
// batch, one transaction, under the table's guard.
func (c *DataAPICopier) maybePrune(endpoint string, db target, names ...string) {
	keep, every := pruneWindow(c.opts.Ledger)
	now := time.Now()
	for _, name := range names {
		if !c.prunes.claim(endpoint+"\x00"+name, now, every) {
			continue
		}
		c.bg.Add(1)
		go func() {
			defer c.bg.Done()
			defer c.prunes.done()
			ctx, cancel := context.WithTimeout(c.closing, c.timeouts.backstop())
			defer cancel()
			n, err := c.prune(ctx, db, name, cutoffLiteral(now, keep))
			if err != nil {
				c.log.Warn("could not prune the ledger; it will be tried again", "table", name, "err", err)
				return
			}
			level := slog.LevelInfo
			if n == 0 {
				level = slog.LevelDebug
			}
			c.log.Log(ctx, level, "ledger pruned", "table", name, "rows_deleted", n, "older_than", config.Duration(keep).String())
			if name == c.ledger.legacyName() {
				if holds, err := c.legacyHolds(ctx, db); err == nil && !holds {
					c.log.Info("the shared ledger of older rin versions is empty; it is no longer read", "table", name)
					c.legacy.set(endpoint, false)
				}
			}
		}()
		return
	}
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
