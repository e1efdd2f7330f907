package redshiftsim

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
)

// A COPY is decided by the client-side half of the session (the rewrite)
// but ends in the backend-side half (the reply). copyRun carries what the
// reply needs from the rewrite: the query id, where each record came from,
// and the records rejected so far, so that the rejected ones can be
// written to stl_load_errors when the COPY's outcome is known, and the
// reply can be put in Redshift's words.

// loadMarker starts the backend's reports of rejected records (a NOTICE
// on success, the DETAIL of the error on failure); the proxy consumes them.
const loadMarker = "rinsim:load:"

// copyRun is one execution of a COPY.
type copyRun struct {
	query     int32
	table     string // the table as Redshift's messages name it: no schema
	qualified string // the quoted name, for to_regclass
	files     []string
	data      [][]byte // each file's contents, to cut raw lines from
	recs      []record
	bad       []loadError    // rejected while parsing
	report    *backendReport // the backend's report, if it sent one
	logged    bool
}

// allErrors is every rejected record, in file and line order.
func (r *copyRun) allErrors() []loadError {
	out := append([]loadError(nil), r.bad...)
	if r.report != nil {
		for i := range r.report.Bad {
			b := &r.report.Bad[i]
			e := loadError{file: -1}
			if b.I >= 0 && b.I < len(r.recs) {
				rec := r.recs[b.I]
				e.file, e.line = rec.file, rec.line
				e.rawLine = truncUTF8(strings.TrimRight(string(r.data[rec.file][rec.start:rec.end]), "\r"), maxRawLine)
			}
			b.redshiftError(&e)
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].file != out[j].file {
			return out[i].file < out[j].file
		}
		return out[i].line < out[j].line
	})
	return out
}

// tbl is the target table's id, when the backend reported it.
func (r *copyRun) tbl() int64 {
	if r.report != nil {
		return r.report.Tbl
	}
	return 0
}

// rejected is how many records the COPY rejected.
func (r *copyRun) rejected() int {
	n := len(r.bad)
	if r.report != nil {
		n += len(r.report.Bad)
	}
	return n
}

// finish records the COPY's outcome: its rejected records go to
// stl_load_errors and, when it failed after getting a query id, it becomes
// the session's last COPY with zero rows. A COPY that loaded everything
// writes nothing here (its own statement recorded it).
func (ss *session) finishCopy(run *copyRun, failed bool) {
	if run == nil || run.logged || !ss.sys {
		return
	}
	run.logged = true
	if !failed && run.rejected() == 0 {
		return
	}
	rows, n := run.stlRows(ss.pid)
	if err := ss.srv.logLoadRows(ss.srv.ctx, ss.database, rows, run.query, ss.key, run.qualified, failed); err != nil {
		ss.log.Warn("writing stl_load_errors", "query", run.query, "err", err)
		return
	}
	ss.srv.stats.rejected.Add(int64(n))
}

// takeLoadNotice consumes the backend's report in a NOTICE: true when the
// notice was one (and must not reach the client).
func (ss *session) takeLoadNotice(run *copyRun, body []byte) bool {
	var n pgproto3.NoticeResponse
	if err := n.Decode(body); err != nil {
		return false
	}
	rest, ok := strings.CutPrefix(n.Message, loadMarker)
	if !ok {
		return false
	}
	run.report = parseReport(rest)
	return true
}

// fixCopyError puts a failed COPY's error in Redshift's words: the
// backend's report is taken out of the DETAIL, and the PL/pgSQL context
// the simulator's own code adds is dropped. It returns the body to send.
func (ss *session) fixCopyError(run *copyRun, body []byte) []byte {
	var e pgproto3.ErrorResponse
	if err := e.Decode(body); err != nil {
		return body
	}
	if rest, ok := strings.CutPrefix(e.Detail, loadMarker); ok {
		run.report = parseReport(rest)
		e.Detail = ""
		e.Message = loadFailedMessage(run.table)
	}
	if strings.Contains(e.Where, "inline_code_block") || strings.Contains(e.Where, "rinsim.") {
		e.Where = ""
	}
	e.File, e.Line, e.Routine = "", 0, ""
	buf, err := e.Encode(nil)
	if err != nil {
		return body
	}
	return buf[5:]
}

// loadNotices are what Redshift tells the client after a COPY that
// skipped records under MAXERROR.
func loadNotices(run *copyRun, loaded int64) []encoder {
	return []encoder{
		&pgproto3.NoticeResponse{Severity: "INFO", SeverityUnlocalized: "INFO", Code: "00000",
			Message: fmt.Sprintf("Load into table '%s' completed, %d record(s) loaded successfully.", run.table, loaded)},
		&pgproto3.NoticeResponse{Severity: "NOTICE", SeverityUnlocalized: "NOTICE", Code: "00000",
			Message: fmt.Sprintf("Load into table '%s' completed, %d record(s) could not be loaded.  Check 'stl_load_errors' system table for details.", run.table, run.rejected())},
	}
}

// parseReport decodes the backend's report; a report that does not decode
// still counts as one with no rows.
func parseReport(s string) *backendReport {
	r := &backendReport{}
	_ = json.Unmarshal([]byte(s), r)
	return r
}
