package dataapi

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Statement and sub-statement statuses.
const (
	Submitted = "SUBMITTED"
	Started   = "STARTED"
	Finished  = "FINISHED"
	Failed    = "FAILED"
	Aborted   = "ABORTED"
)

// statement is one submission: a single SQL statement, or a batch whose
// parts are its subs. Fields after the constructor are guarded by
// Server.mu.
type statement struct {
	id      string
	target  target
	params  []sqlParameter
	batch   bool
	created time.Time
	cancel  context.CancelFunc

	status  string
	err     string
	aborted bool // cancelled (CancelStatement or Close)
	pid     int64
	updated time.Time
	subs    []*sub
}

// sub is one SQL statement of a submission (the only one, unless batch).
type sub struct {
	sql     string // as submitted (parameters not substituted)
	status  string
	err     string
	qid     int64
	started time.Time
	updated time.Time
	result  *pgconn.Result // rows of a statement that returned a result set
	rows    int64
	size    int64
}

func (st *statement) describe() describeOutput {
	out := describeOutput{target: st.target, RedshiftPid: st.pid, QueryParameters: st.params}
	out.Id, out.Status, out.Error = st.id, st.status, st.err
	out.CreatedAt, out.UpdatedAt = epoch(st.created), epoch(st.updated)
	out.Duration = st.updated.Sub(st.created).Nanoseconds()
	if st.status != Finished && st.status != Failed && st.status != Aborted {
		out.Duration = -1
	}
	for i, s := range st.subs {
		sd := s.data(st.id, i)
		if !st.batch {
			out.QueryString, out.HasResultSet, out.QueryId = sd.QueryString, sd.HasResultSet, sd.QueryId
			out.ResultRows, out.ResultSize = sd.ResultRows, sd.ResultSize
			continue
		}
		out.SubStatements = append(out.SubStatements, sd)
		out.ResultRows += max(sd.ResultRows, 0)
		out.ResultSize += max(sd.ResultSize, 0)
		out.HasResultSet = out.HasResultSet || sd.HasResultSet
	}
	return out
}

func (s *sub) data(parent string, i int) subStatementData {
	d := subStatementData{
		Id: subID(parent, i), Status: s.status, Error: s.err, QueryString: s.sql,
		HasResultSet: s.result != nil, ResultRows: s.rows, ResultSize: s.size,
		QueryId: s.qid, CreatedAt: epoch(s.started), UpdatedAt: epoch(s.updated), Duration: -1,
	}
	if s.status != Finished || s.started.IsZero() {
		d.ResultRows, d.ResultSize = -1, -1
	}
	if !s.started.IsZero() && s.status != Started {
		d.Duration = s.updated.Sub(s.started).Nanoseconds()
	}
	return d
}
