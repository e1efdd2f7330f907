package redshift

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"

	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/journal"
)

// With MAXERROR in its options a COPY can commit having skipped rows it
// could not load. Redshift says so only in a NOTICE and in stl_load_errors,
// which it writes for the session's last COPY (pg_last_copy_id()). rin
// reads it in the COPY's own transaction, so the skipped rows of each
// object are recorded with the load itself, in the ledger and the journal.
// Without MAXERROR any bad row fails the whole COPY, so there is nothing to
// read and no query is spent.

var maxErrorRe = regexp.MustCompile(`(?i)\bMAXERROR\b`)

// allowsSkippedRows reports whether a COPY with these options may commit
// having skipped rows.
func allowsSkippedRows(sqlOption string) bool { return maxErrorRe.MatchString(sqlOption) }

// skippedRowsSQL counts the rows the session's last COPY rejected, by file.
// filename is CHAR(256) in Redshift, hence the TRIM.
const skippedRowsSQL = `SELECT TRIM(filename), COUNT(*) FROM stl_load_errors WHERE query = pg_last_copy_id() GROUP BY 1`

// readSkippedRows adds the rows the last COPY skipped to res, by job.
func readSkippedRows(ctx context.Context, tx *sql.Tx, jobs []journal.Job, res *fsm.Result) error {
	rows, err := tx.QueryContext(ctx, skippedRowsSQL)
	if err != nil {
		return fmt.Errorf("read skipped rows from stl_load_errors: %w", err)
	}
	defer rows.Close()
	byURI := make(map[string]string, len(jobs))
	for _, j := range jobs {
		byURI[j.URI()] = j.ID
	}
	for rows.Next() {
		var file string
		var n int64
		if err := rows.Scan(&file, &n); err != nil {
			return fmt.Errorf("read skipped rows from stl_load_errors: %w", err)
		}
		id, ok := byURI[strings.TrimSpace(file)]
		if !ok {
			continue // not one of this batch's objects (the manifest itself)
		}
		if res.RowsSkipped == nil {
			res.RowsSkipped = map[string]int64{}
		}
		res.RowsSkipped[id] += n
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read skipped rows from stl_load_errors: %w", err)
	}
	return nil
}
