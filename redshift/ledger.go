package redshift

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/journal"
)

// ledger is rin's record in Redshift of every loaded job: one table per
// target table (ledger_name.go), whose rows commit in the same transaction
// as the COPY they vouch for, plus the one shared table older rins wrote,
// which is still read (legacy.go). See the package doc for why.
type ledger struct {
	schema, table string // ledger.schema and ledger.table of the config
}

// legacyName is the quoted name of the shared ledger older rins wrote.
func (l ledger) legacyName() string { return tableName(l.schema, l.table) }

// name is the quoted name of the ledger of target table schema.table.
func (l ledger) name(schema, table string) string {
	return tableName(l.schema, l.tableFor(schema, table))
}

func (l ledger) schemaOrPublic() string {
	if l.schema == "" {
		return config.DefaultLedgerSchema
	}
	return l.schema
}

// createSQL creates a table's ledger when missing. Both drivers use it, so a
// database loaded through either has the same ledgers.
//
// Lookups are by job_id (WHERE job_id IN (...)), so job_id is the sort key:
// on sorted blocks the zone maps let a lookup read a block or two per slice
// however large the table. It is also the distribution key, which keeps
// each id's row on one slice. Pruning (loaded_at) is rare and may scan.
func (l ledger) createSQL(name string) string {
	return `CREATE TABLE IF NOT EXISTS ` + name + ` (
	job_id         VARCHAR(64)   NOT NULL ENCODE RAW,
	batch_id       VARCHAR(64)   ENCODE ZSTD,
	target         VARCHAR(256)  ENCODE ZSTD,
	s3_uri         VARCHAR(4096) ENCODE ZSTD,
	object_version VARCHAR(1024) ENCODE ZSTD,
	row_count      BIGINT        ENCODE AZ64,
	loaded_at      TIMESTAMP     ENCODE AZ64,
	skipped_rows   BIGINT DEFAULT 0 ENCODE AZ64
) DISTSTYLE KEY DISTKEY (job_id) SORTKEY (job_id)`
}

// ensure creates a table's ledger when missing. Two processes may create
// it at once and one of them lose the race; what counts is that it exists.
func (l ledger) ensure(ctx context.Context, db *sql.DB, schema, table string) error {
	name := l.name(schema, table)
	_, err := db.ExecContext(ctx, l.createSQL(name))
	if err != nil {
		if ok, _ := tableExists(ctx, db, l.schemaOrPublic(), l.tableFor(schema, table)); ok {
			return nil
		}
	}
	return l.ensureErr(name, classify(err))
}

// tableExists asks the catalog whether schema.table exists.
func tableExists(ctx context.Context, db *sql.DB, schema, table string) (bool, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2`,
		schema, table).Scan(&n)
	return n > 0, err
}

// ensureErr explains a classified failure to create a ledger table.
func (l ledger) ensureErr(name string, err error) error {
	if err == nil {
		return nil
	}
	switch fsm.ScopeOf(err) {
	case fsm.ScopeTable:
		// No privilege or no schema: nothing loads on this endpoint until a
		// person fixes it, so it holds the endpoint, not a table.
		return fsm.Rescope(fsm.ScopeEndpoint, fmt.Errorf("create ledger table %s (grant rin CREATE on the schema, or create the table yourself; see README): %w", name, err))
	case fsm.ScopeObject:
		// A duplicate key in the catalog: another process created it at
		// the same moment. Never an object's fault; the next try finds it.
		return fsm.Rescope(fsm.ScopeStatement, fmt.Errorf("create ledger table %s: %w", name, err))
	}
	return fmt.Errorf("create ledger table %s: %w", name, err)
}

// A batch's ledger statements run while the table's guard is held, so
// they are few: one lookup and one INSERT for a batch of 1,000 jobs (each
// with up to three ids), far below the protocol's 65,535 parameters.
const (
	idsPerLookup  = 3000
	rowsPerInsert = 1000
)

// queryer is a transaction or a pool.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// ledgerIDs lists every id the ledger may hold jobs under, each once, with
// the job it stands for (a job has its own id and those of older rins).
func ledgerIDs(jobs []journal.Job) (owner map[string]string, ids []string) {
	owner = map[string]string{}
	for _, j := range jobs {
		for _, id := range j.IDs() {
			if _, ok := owner[id]; !ok {
				owner[id] = j.ID
				ids = append(ids, id)
			}
		}
	}
	return owner, ids
}

// loaded returns the jobs (by their own id) that ledger table name holds
// under any of their ids (journal.Job.IDs: a job journaled by an older rin,
// or an object loaded by one, is recorded under another id than the one a
// new delivery gets).
func loaded(ctx context.Context, q queryer, name string, jobs []journal.Job) (map[string]bool, error) {
	owner, ids := ledgerIDs(jobs)
	out := map[string]bool{}
	for start := 0; start < len(ids); start += idsPerLookup {
		chunk := ids[start:min(start+idsPerLookup, len(ids))]
		ph := make([]string, len(chunk))
		args := make([]any, len(chunk))
		for i, id := range chunk {
			ph[i] = "$" + strconv.Itoa(i+1)
			args[i] = id
		}
		rows, err := q.QueryContext(ctx, "SELECT job_id FROM "+name+" WHERE job_id IN ("+strings.Join(ph, ",")+")", args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			out[owner[id]] = true
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

// sameLoads splits a batch's jobs into those to load and those that are
// the same load as an earlier job of the batch under another id (an old
// journal's job beside a redelivery's): listing both would load the object
// twice in one COPY. A job listed twice under its own id is kept once.
func sameLoads(jobs []journal.Job) (keep []journal.Job, dup map[string]bool) {
	seen := map[string]bool{}
	own := map[string]bool{}
	dup = map[string]bool{}
	for _, j := range jobs {
		if own[j.ID] {
			continue
		}
		ids := j.IDs()
		hit := false
		for _, id := range ids {
			hit = hit || seen[id]
		}
		if hit {
			dup[j.ID] = true
			continue
		}
		own[j.ID] = true
		for _, id := range ids {
			seen[id] = true
		}
		keep = append(keep, j)
	}
	return keep, dup
}

// record inserts one ledger row per job into ledger table name, with the
// rows its COPY loaded and the rows of its object that MAXERROR skipped.
func record(ctx context.Context, tx *sql.Tx, name, batchID string, jobs []journal.Job, res fsm.Result, now time.Time) error {
	const cols = 8
	for start := 0; start < len(jobs); start += rowsPerInsert {
		chunk := jobs[start:min(start+rowsPerInsert, len(jobs))]
		var sb strings.Builder
		sb.WriteString("INSERT INTO " + name + " (job_id, batch_id, target, s3_uri, object_version, row_count, loaded_at, skipped_rows) VALUES ")
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

// ensuredSet remembers the ledger tables known to exist, by endpoint and
// name, so CREATE TABLE IF NOT EXISTS runs once per table, not once per
// batch. The zero value is ready to use.
type ensuredSet struct {
	mu   sync.Mutex
	done map[string]bool
}

// forget makes the next once for every table of endpoint run create again.
func (s *ensuredSet) forget(endpoint string) {
	s.mu.Lock()
	for k := range s.done {
		if strings.HasPrefix(k, endpoint+"\x00") {
			delete(s.done, k)
		}
	}
	s.mu.Unlock()
}

// once runs create for endpoint's table unless an earlier call succeeded.
func (s *ensuredSet) once(endpoint, table string, create func() error) error {
	key := endpoint + "\x00" + table
	s.mu.Lock()
	done := s.done[key]
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
	s.done[key] = true
	s.mu.Unlock()
	return nil
}
