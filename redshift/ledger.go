package redshift

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/journal"
)

// ledger is the table in Redshift that records every loaded job. Its rows
// commit in the same transaction as the COPY (see the package doc).
type ledger struct {
	schema, table string
}

func (l ledger) name() string { return tableName(l.schema, l.table) }

// createSQL creates the ledger table when missing. Both drivers use it,
// so a database loaded through either has the same ledger.
func (l ledger) createSQL() string {
	return `CREATE TABLE IF NOT EXISTS ` + l.name() + ` (
	job_id         VARCHAR(64)   NOT NULL,
	batch_id       VARCHAR(64),
	target         VARCHAR(256),
	s3_uri         VARCHAR(4096),
	object_version VARCHAR(1024),
	row_count      BIGINT,
	loaded_at      TIMESTAMP,
	skipped_rows   BIGINT DEFAULT 0
)`
}

// addSkippedRowsSQL upgrades a ledger created before skipped_rows existed.
func (l ledger) addSkippedRowsSQL() string {
	return `ALTER TABLE ` + l.name() + ` ADD COLUMN skipped_rows BIGINT DEFAULT 0`
}

// ensure creates the ledger table when missing, and adds the columns a
// ledger of an older rin lacks.
func (l ledger) ensure(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, l.createSQL()); err != nil {
		return l.ensureErr(classify(err))
	}
	var n int
	err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND column_name = 'skipped_rows'`,
		l.schemaOrPublic(), l.table).Scan(&n)
	if err == nil && n == 0 {
		_, err = db.ExecContext(ctx, l.addSkippedRowsSQL())
	}
	return l.ensureErr(classify(err))
}

func (l ledger) schemaOrPublic() string {
	if l.schema == "" {
		return "public"
	}
	return l.schema
}

// ensureErr explains a classified failure to create the ledger.
func (l ledger) ensureErr(err error) error {
	if err == nil {
		return nil
	}
	if fsm.ScopeOf(err) == fsm.ScopeTable {
		// No privilege or no schema: nothing loads on this endpoint until a
		// person fixes it, so it holds the endpoint, not a table.
		return fsm.WithScope(fsm.ScopeEndpoint, fmt.Errorf("create ledger table %s (grant rin CREATE on the schema, or create the table yourself; see README): %w", l.name(), err))
	}
	return fmt.Errorf("create ledger table %s: %w", l.name(), err)
}

// lock serializes ledger check-and-insert across every loader of this
// database, including other rin processes, until the transaction ends.
func (l ledger) lock(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, "LOCK "+l.name())
	return err
}

// loaded returns the ids among jobs that the ledger already holds.
func (l ledger) loaded(ctx context.Context, tx *sql.Tx, jobs []journal.Job) (map[string]bool, error) {
	out := map[string]bool{}
	for start := 0; start < len(jobs); start += 500 {
		chunk := jobs[start:min(start+500, len(jobs))]
		ph := make([]string, len(chunk))
		args := make([]any, len(chunk))
		for i, j := range chunk {
			ph[i] = "$" + strconv.Itoa(i+1)
			args[i] = j.ID
		}
		rows, err := tx.QueryContext(ctx, "SELECT job_id FROM "+l.name()+" WHERE job_id IN ("+strings.Join(ph, ",")+")", args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = true
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// record inserts one ledger row per job, with the rows its COPY loaded and
// the rows of its object that MAXERROR skipped.
func (l ledger) record(ctx context.Context, tx *sql.Tx, batchID string, jobs []journal.Job, res fsm.Result, now time.Time) error {
	const cols = 8
	for start := 0; start < len(jobs); start += 200 {
		chunk := jobs[start:min(start+200, len(jobs))]
		var sb strings.Builder
		sb.WriteString("INSERT INTO " + l.name() + " (job_id, batch_id, target, s3_uri, object_version, row_count, loaded_at, skipped_rows) VALUES ")
		args := make([]any, 0, len(chunk)*cols)
		for i, j := range chunk {
			if i > 0 {
				sb.WriteString(",")
			}
			n := i * cols
			fmt.Fprintf(&sb, "($%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d)", n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8)
			args = append(args, j.ID, batchID, j.Target, j.URI(), j.Version, res.Rows, now.UTC(), res.RowsSkipped[j.ID])
		}
		if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// ensuredSet remembers the endpoints whose ledger table is known to exist,
// so CREATE TABLE IF NOT EXISTS runs once per endpoint, not once per batch.
// The zero value is ready to use.
type ensuredSet struct {
	mu   sync.Mutex
	done map[string]bool
}

// forget makes the next once for endpoint run create again.
func (s *ensuredSet) forget(endpoint string) {
	s.mu.Lock()
	delete(s.done, endpoint)
	s.mu.Unlock()
}

// once runs create for endpoint unless an earlier call succeeded.
func (s *ensuredSet) once(endpoint string, create func() error) error {
	s.mu.Lock()
	done := s.done[endpoint]
	s.mu.Unlock()
	if done {
		return nil
	}
	if err := create(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.done == nil {
		s.done = map[string]bool{}
	}
	s.done[endpoint] = true
	s.mu.Unlock()
	return nil
}
