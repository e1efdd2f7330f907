package redshiftsim

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Redshift writes stl_load_errors outside the loading transaction: the
// rejected rows are there even when the COPY fails and its transaction
// rolls back. The simulator does the same through a side connection to the
// backend database (autocommit, one per database, shared by the sessions),
// which also installs the load objects (sysobjects.go) before the first
// session of that database starts. It is used only on the error path: a
// COPY that loads every row never touches it.

// sysTimeout bounds one side-connection operation.
const sysTimeout = 15 * time.Second

// sysDB is the side connection to one backend database.
type sysDB struct {
	name  string
	mu    sync.Mutex
	conn  *pgx.Conn // nil until needed, and after a failure
	ready bool      // objects installed
}

// sysDBs maps database names to their side connections.
type sysDBs struct {
	mu sync.Mutex
	m  map[string]*sysDB
}

func (s *Server) sysDB(name string) *sysDB {
	s.sys.mu.Lock()
	defer s.sys.mu.Unlock()
	if s.sys.m == nil {
		s.sys.m = map[string]*sysDB{}
	}
	d := s.sys.m[name]
	if d == nil {
		d = &sysDB{name: name}
		s.sys.m[name] = d
	}
	return d
}

// closeSys closes every side connection (Server.Close).
func (s *Server) closeSys() {
	s.sys.mu.Lock()
	defer s.sys.mu.Unlock()
	for _, d := range s.sys.m {
		d.mu.Lock()
		if d.conn != nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = d.conn.Close(ctx)
			cancel()
			d.conn = nil
		}
		d.mu.Unlock()
	}
}

// withSysConn runs f on the database's side connection, connecting first if
// needed; a failure drops the connection so the next call reconnects.
func (s *Server) withSysConn(ctx context.Context, d *sysDB, f func(*pgx.Conn) error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, sysTimeout)
	defer cancel()
	if d.conn == nil {
		cfg, err := pgx.ParseConfig(s.cfg.Backend)
		if err != nil {
			return err
		}
		if cfg.Database == "" {
			cfg.Database = d.name
		}
		if cfg.RuntimeParams == nil {
			cfg.RuntimeParams = map[string]string{}
		}
		cfg.RuntimeParams["application_name"] = "redshiftsim"
		if d.conn, err = pgx.ConnectConfig(ctx, cfg); err != nil {
			return fmt.Errorf("side connection to %q: %w", d.name, err)
		}
	}
	err := f(d.conn)
	if err != nil && !errors.Is(err, errSysUnavailable) {
		_ = d.conn.Close(context.Background())
		d.conn = nil
	}
	return err
}

var errSysUnavailable = errors.New("load objects unavailable")

// ensureSys installs the load objects in database name, once per server,
// and makes the server's query ids continue after any ids already
// recorded there. It reports whether the objects are usable; when they are
// not (no CREATE privilege, say), COPYs fall back to plain INSERTs without
// load bookkeeping.
func (s *Server) ensureSys(ctx context.Context, name string) bool {
	d := s.sysDB(name)
	d.mu.Lock()
	ready := d.ready
	d.mu.Unlock()
	if ready {
		return true
	}
	err := s.withSysConn(ctx, d, func(c *pgx.Conn) error {
		if d.ready {
			return nil
		}
		var have *string
		if err := c.QueryRow(ctx, `SELECT obj_description(to_regnamespace('rinsim'), 'pg_namespace')`).Scan(&have); err != nil {
			return err
		}
		if have == nil || *have != sysVersion {
			if err := pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(7411203355)`); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, sysSchemaSQL)
				return err
			}); err != nil {
				return fmt.Errorf("installing load objects: %w", err)
			}
		}
		var maxID int64
		if err := c.QueryRow(ctx, `SELECT greatest(
			(SELECT coalesce(max(query), 0) FROM rinsim.copies),
			(SELECT coalesce(max(query), 0) FROM rinsim.stl_load_errors),
			(SELECT coalesce(max(query), 0) FROM rinsim.stl_load_commits))`).Scan(&maxID); err != nil {
			return err
		}
		s.raiseQueryID(maxID)
		d.ready = true
		return nil
	})
	if err != nil {
		s.log.Warn("load bookkeeping (stl_load_errors, pg_last_copy_id) unavailable", "database", name, "err", err)
		return false
	}
	return true
}

// nextQueryID returns the next query id: one increasing counter per server,
// like Redshift's, kept within Redshift's integer range.
func (s *Server) nextQueryID() int32 {
	return int32(s.queryID.Add(1) % (1 << 31))
}

// raiseQueryID makes the counter continue after id.
func (s *Server) raiseQueryID(id int64) {
	for {
		cur := s.queryID.Load()
		if cur >= id || s.queryID.CompareAndSwap(cur, id) {
			return
		}
	}
}

// logLoadRows writes rejected rows to stl_load_errors and, for a failed
// COPY, its zero-row entry in copies, in one round trip on the side
// connection.
func (s *Server) logLoadRows(ctx context.Context, database string, rows []byte, query int32, session string, table string, failed bool) error {
	d := s.sysDB(database)
	return s.withSysConn(ctx, d, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, `WITH e AS (
			INSERT INTO rinsim.stl_load_errors (tbl, session, query, filename, line_number, colname, type,
				col_length, position, raw_line, raw_field_value, err_code, err_reason)
			SELECT coalesce(nullif(x.tbl, 0), mod(to_regclass($2)::oid::bigint, 2147483648), 0), x.session, x.query,
				x.filename, x.line_number, x.colname, x.type, x.col_length, x.position, x.raw_line,
				x.raw_field_value, x.err_code, x.err_reason
			FROM json_to_recordset($1::json) AS x(tbl bigint, session integer, query integer, filename text,
				line_number bigint, colname text, type text, col_length text, position integer, raw_line text,
				raw_field_value text, err_code integer, err_reason text))
		INSERT INTO rinsim.copies (query, session, rows) SELECT $3, $4, 0 WHERE $5`,
			string(rows), table, query, session, failed)
		return err
	})
}
