package redshiftsim

// The backend-to-client half of a session: replies pass through unchanged
// except that COPY completions get a COPY tag and are counted, a COPY's
// rejected records are written to stl_load_errors before its reply goes
// out (copyrun.go), replies to messages the proxy injected are hidden,
// server_version is reported as Redshift's, and a COMMIT reply may be
// withheld (fault injection).

import (
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
)

// backendLoop relays backend messages to the client, fixing up replies
// according to the pending requests.
func (ss *session) backendLoop() error {
	var buf []byte
	for {
		typ, body, err := readMsg(ss.br, buf)
		if err != nil {
			return err
		}
		buf = body
		forward := true
		switch typ {
		case '1', '2', '3': // ParseComplete, BindComplete, CloseComplete
			if p := ss.pending.pop(); p != nil && p.swallow {
				forward = false
			}
		case 'n': // NoData
			ss.pending.pop()
		case 'T': // RowDescription: ends a Describe, or part of a Query's results
			if h := ss.pending.head(); h != nil && h.kind == pendDescribe {
				ss.pending.pop()
			}
		case 'C', 'I': // CommandComplete, EmptyQueryResponse
			isCopy := false
			var run *copyRun
			if h := ss.pending.head(); h != nil {
				switch h.kind {
				case pendExecute:
					isCopy, run = h.copy, h.run
					ss.pending.pop()
				case pendQuery:
					isCopy, run = h.currentIsCopy(), h.copyRun()
					h.idx++
				}
			}
			if typ != 'C' {
				break
			}
			tag := cstring(body)
			if isCopy {
				n := tagRows(tag)
				ss.srv.stats.copies.Add(1)
				ss.srv.stats.rows.Add(n)
				body = append([]byte("COPY "+strconv.FormatInt(n, 10)), 0)
				ss.log.Debug("COPY loaded", "rows", n)
				if run != nil && run.rejected() > 0 {
					if err := writeEncoded(ss.cw, loadNotices(run, n)...); err != nil {
						return err
					}
				}
				ss.finishCopy(run, false)
			}
			if tag == "COMMIT" {
				ss.serialCommitted()
			}
			if tag == "COMMIT" && ss.srv.takeDropCommit() {
				ss.srv.stats.dropped.Add(1)
				ss.resetClient()
				return errDropCommit
			}
		case 's': // PortalSuspended
			ss.pending.pop()
		case 'E': // ErrorResponse
			if h := ss.pending.head(); h != nil {
				isCopy := h.copy
				if h.kind == pendQuery {
					isCopy = h.currentIsCopy()
				}
				if isCopy {
					run := h.copyRun()
					ss.srv.stats.copiesFailed.Add(1)
					body = ss.fixCopyError(run, body)
					ss.finishCopy(run, true)
				}
				if h.kind != pendQuery {
					ss.pending.skipToSync()
				}
			}
		case 'N': // NoticeResponse: the backend's report of rejected records is the proxy's
			if h := ss.pending.head(); h != nil {
				if run := h.copyRun(); run != nil && ss.takeLoadNotice(run, body) {
					forward = false
				}
			}
		case 'Z': // ReadyForQuery
			ss.pending.readyForQuery()
			if len(body) > 0 {
				ss.serialReady(body[0])
			}
		case 'S': // ParameterStatus
			var ps pgproto3.ParameterStatus
			if err := ps.Decode(body); err == nil && ps.Name == "server_version" {
				ps.Value = redshiftServerVersion
				if b, err := ps.Encode(nil); err == nil {
					body = b[5:]
				}
			}
		}
		if forward {
			if err := writeMsg(ss.cw, typ, body); err != nil {
				return err
			}
		}
		if ss.br.Buffered() == 0 {
			if err := ss.cw.Flush(); err != nil {
				return err
			}
		}
	}
}

// tagRows extracts the row count from a command tag ("INSERT 0 5" -> 5).
func tagRows(tag string) int64 {
	i := strings.LastIndexByte(tag, ' ')
	n, _ := strconv.ParseInt(tag[i+1:], 10, 64)
	return n
}
