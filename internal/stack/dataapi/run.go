package dataapi

import (
	"context"
	"errors"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// run executes a submission on a connection of its own: a single statement
// in autocommit, a batch in one transaction.
func (s *Server) run(ctx context.Context, st *statement) {
	s.set(st, func() { st.status = Started })
	conn, err := s.connect(ctx, st.target)
	if err != nil {
		s.fail(ctx, st, 0, err)
		return
	}
	defer conn.Close(context.Background())
	s.set(st, func() { st.pid = int64(conn.PID()) })

	if st.batch {
		if err := execOnly(ctx, conn, "BEGIN"); err != nil {
			s.fail(ctx, st, 0, err)
			return
		}
	}
	for i, sb := range st.subs {
		s.set(st, func() {
			s.qid++
			sb.status, sb.started, sb.qid = Started, time.Now(), s.qid
		})
		sql, err := bind(sb.sql, st.params)
		var res *pgconn.Result
		if err == nil {
			res, err = execOne(ctx, conn, sql)
		}
		if err != nil {
			if st.batch {
				// The transaction is aborted; end it so the connection's
				// close does not race a half-open transaction.
				_ = execOnly(context.Background(), conn, "ROLLBACK")
			}
			s.fail(ctx, st, i, err)
			return
		}
		s.set(st, func() {
			sb.status = Finished
			sb.rows = res.CommandTag.RowsAffected()
			if res.FieldDescriptions != nil {
				sb.result, sb.rows = res, int64(len(res.Rows))
				for _, r := range res.Rows {
					for _, v := range r {
						sb.size += int64(len(v))
					}
				}
			}
		})
	}
	if st.batch {
		if err := execOnly(ctx, conn, "COMMIT"); err != nil {
			s.fail(ctx, st, len(st.subs)-1, err)
			return
		}
	}
	s.finish(st, -1, nil)
}

// finish records the outcome: err fails (or, when the context was
// cancelled, aborts) sub-statement failed and aborts those after it.
func (s *Server) finish(st *statement, failed int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	st.updated = now
	if err == nil {
		st.status = Finished
		return
	}
	status, msg := Failed, errorText(err)
	if errors.Is(err, context.Canceled) || st.aborted {
		status, msg = Aborted, "Query ("+st.id+") cancelled by user."
	}
	st.status, st.err = status, msg
	for i, sb := range st.subs {
		sb.updated = now
		switch {
		case i == failed:
			sb.status, sb.err = status, msg
		case i > failed || sb.status != Finished:
			sb.status = Aborted
		}
	}
	s.log.Debug("dataapi: statement ended", "id", st.id, "status", status)
}

// fail ends st with err; a cancelled context (CancelStatement, Close)
// makes it ABORTED rather than FAILED.
func (s *Server) fail(ctx context.Context, st *statement, failed int, err error) {
	if ctx.Err() != nil {
		s.set(st, func() { st.aborted = true })
	}
	s.finish(st, failed, err)
}

func (s *Server) set(st *statement, f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f()
	st.updated = time.Now()
}

// connect opens a connection to the backend for the requested database.
func (s *Server) connect(ctx context.Context, t target) (*pgconn.PgConn, error) {
	if s.cfg.Database != "" && t.Database != s.cfg.Database {
		return nil, errors.New(`database "` + t.Database + `" does not exist`)
	}
	u, err := url.Parse(s.cfg.Backend)
	if err != nil {
		return nil, err
	}
	if s.cfg.Database == "" && u.Path == "" {
		u.Path = "/" + t.Database
	}
	return pgconn.Connect(ctx, u.String())
}

// execOne runs one SQL string in the simple protocol and returns its last
// result. Unlike pgconn's ReadAll it keeps the columns of a result set
// without rows: an empty SELECT still has a (empty) result.
func execOne(ctx context.Context, conn *pgconn.PgConn, sql string) (*pgconn.Result, error) {
	mrr := conn.Exec(ctx, sql)
	last := &pgconn.Result{}
	for mrr.NextResult() {
		rr := mrr.ResultReader()
		res := &pgconn.Result{}
		if fds := rr.FieldDescriptions(); fds != nil {
			res.FieldDescriptions = append([]pgconn.FieldDescription{}, fds...)
		}
		for rr.NextRow() {
			vals := rr.Values()
			row := make([][]byte, len(vals))
			for i, v := range vals {
				if v != nil {
					row[i] = append([]byte{}, v...)
				}
			}
			res.Rows = append(res.Rows, row)
		}
		res.CommandTag, res.Err = rr.Close()
		last = res
	}
	if err := mrr.Close(); err != nil {
		return nil, err
	}
	return last, nil
}

func execOnly(ctx context.Context, conn *pgconn.PgConn, sql string) error {
	_, err := execOne(ctx, conn, sql)
	return err
}

// errorText is the Error of a failed statement. The real service passes
// the database's message on, prefixed with "ERROR: "; there is no SQLSTATE.
func errorText(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		msg := "ERROR: " + pe.Message
		if pe.Detail != "" {
			msg += "\n  Detail: " + pe.Detail
		}
		return msg
	}
	return "ERROR: " + err.Error()
}
