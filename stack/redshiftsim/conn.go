package redshiftsim

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// One client connection is one session: one backend connection and two
// goroutines relaying frames in each direction. The client-to-backend side
// rewrites Redshift COPYs (and, in read-only mode, writes) and records what
// it sent; the backend-to-client side uses that record to fix up replies.

type session struct {
	srv *Server
	id  int64
	log *slog.Logger

	client net.Conn
	cr     *bufio.Reader
	cw     *bufio.Writer // written only by the startup code, then backendLoop

	backend net.Conn
	br      *bufio.Reader
	bw      *bufio.Writer // written only by clientLoop

	pending pendingQueue

	// Extended-protocol bookkeeping, owned by clientLoop: what each
	// prepared statement and portal is, so Execute knows what it runs.
	stmts   map[string]stmtInfo
	portals map[string]stmtInfo
}

// errDropCommit ends a session on purpose after a commit (fault injection).
var errDropCommit = errors.New("dropped connection after COMMIT (injected fault)")

// serve runs one client connection to completion.
func (s *Server) serve(c net.Conn) {
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	ss := &session{
		srv:     s,
		id:      s.newSessionID(),
		client:  c,
		stmts:   map[string]stmtInfo{},
		portals: map[string]stmtInfo{},
	}
	ss.log = s.log.With("session", ss.id)
	ss.cr, ss.cw = newBuffered(c)
	defer func() { _ = ss.client.Close() }()

	sctx, scancel := context.WithTimeout(ctx, startupTimeout)
	stop := context.AfterFunc(sctx, func() { _ = c.SetDeadline(time.Now()) })
	params, err := ss.clientStartup(sctx)
	if err == nil {
		err = ss.checkPassword(params)
	}
	if err != nil {
		stop()
		scancel()
		if !errors.Is(err, errCancelHandled) && !errors.Is(err, io.EOF) {
			ss.log.Debug("client startup failed", "err", err)
		}
		return
	}
	hc, err := ss.connectBackend(sctx, params)
	if err != nil {
		stop()
		scancel()
		ss.log.Warn("backend connection failed", "err", err)
		ss.backendFailure(err)
		return
	}
	ss.backend = hc.Conn
	if !s.track(ss.backend) {
		stop()
		scancel()
		_ = ss.backend.Close()
		return
	}
	defer s.untrack(ss.backend)
	ss.br, ss.bw = newBuffered(ss.backend)
	err = ss.greetClient(hc)
	if !stop() {
		err = errors.New("startup timed out")
	}
	scancel()
	_ = ss.client.SetDeadline(time.Time{})
	if err != nil {
		ss.log.Debug("greeting client failed", "err", err)
		return
	}
	s.stats.conns.Add(1)
	s.stats.active.Add(1)
	defer s.stats.active.Add(-1)
	ss.log.Debug("session started", "user", params["user"], "database", params["database"], "backend_pid", hc.PID)

	// Either side ending ends the session: closing both connections unblocks
	// the other goroutine.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		err := ss.backendLoop()
		ss.logEnd("backend", err)
		_ = ss.client.Close()
		_ = ss.backend.Close()
	}()
	err = ss.clientLoop(ctx)
	ss.logEnd("client", err)
	cancel()
	_ = ss.client.Close()
	_ = ss.backend.Close()
	wg.Wait()
}

// setClient switches the client connection (after the TLS handshake).
func (ss *session) setClient(c net.Conn) {
	ss.client = c
	ss.cr, ss.cw = newBuffered(c)
}

func (ss *session) writeClientRaw(b []byte) error {
	if _, err := ss.cw.Write(b); err != nil {
		return err
	}
	return ss.cw.Flush()
}

func (ss *session) logEnd(side string, err error) {
	switch {
	case err == nil, errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		ss.log.Debug("session ended", "side", side)
	case errors.Is(err, errDropCommit):
		ss.log.Info("session dropped after COMMIT (injected fault)")
	default:
		ss.log.Debug("session ended", "side", side, "err", err)
	}
}

// clientLoop relays client messages to the backend, rewriting Query and
// Parse, and taking over Execute for COPY portals and, while read-only,
// for portals that write.
func (ss *session) clientLoop(ctx context.Context) error {
	for {
		typ, body, err := readMsg(ss.cr, nil)
		if err != nil {
			return err
		}
		switch typ {
		case 'Q':
			var q pgproto3.Query
			if err := q.Decode(body); err != nil {
				return err
			}
			sql, kinds := ss.rewriteQuery(ctx, q.String)
			ss.pending.push(&pending{kind: pendQuery, stmts: kinds})
			if sql != q.String {
				body = append([]byte(sql), 0)
			}
		case 'P':
			var p pgproto3.Parse
			if err := p.Decode(body); err != nil {
				return err
			}
			info := classifySingle(p.Query)
			ss.stmts[p.Name] = info
			if info.isCopy {
				// The real statement is produced at Execute; until then
				// the backend holds a placeholder with the same shape
				// (no parameters, no result columns).
				p.Query = copyPlaceholder
				buf, err := p.Encode(nil)
				if err != nil {
					return err
				}
				body = buf[5:]
			}
			ss.pending.push(&pending{kind: pendParse})
		case 'B':
			var b pgproto3.Bind
			if err := b.Decode(body); err != nil {
				return err
			}
			ss.portals[b.DestinationPortal] = ss.stmts[b.PreparedStatement]
			ss.pending.push(&pending{kind: pendBind})
		case 'E':
			var e pgproto3.Execute
			if err := e.Decode(body); err != nil {
				return err
			}
			info := ss.portals[e.Portal]
			if info.isCopy || (info.write && ss.srv.isReadOnly()) {
				if err := ss.injectExecute(ctx, info); err != nil {
					return err
				}
				continue
			}
			ss.pending.push(&pending{kind: pendExecute})
		case 'D':
			ss.pending.push(&pending{kind: pendDescribe})
		case 'C':
			var c pgproto3.Close
			if err := c.Decode(body); err != nil {
				return err
			}
			if c.ObjectType == 'S' {
				delete(ss.stmts, c.Name)
			} else {
				delete(ss.portals, c.Name)
			}
			ss.pending.push(&pending{kind: pendClose})
		case 'S':
			ss.pending.push(&pending{kind: pendSync})
		case 'F':
			ss.pending.push(&pending{kind: pendQuery})
		case 'X':
			_ = writeMsg(ss.bw, typ, body)
			_ = ss.bw.Flush()
			return nil
		}
		if err := writeMsg(ss.bw, typ, body); err != nil {
			return err
		}
		if ss.cr.Buffered() == 0 {
			if err := ss.bw.Flush(); err != nil {
				return err
			}
		}
	}
}

// copyPlaceholder stands in for a prepared COPY in the backend.
const copyPlaceholder = "DO $rinsim$ BEGIN END $rinsim$"

// injectedName names the statement and portal the proxy uses to run a
// rewritten COPY (or a raised error) in place of a client's Execute.
const injectedName = "rinsim_exec"

// injectExecute replaces the client's Execute with one of a statement the
// proxy prepares itself. Replies to the helper messages are swallowed, so
// the client sees just the Execute's reply.
func (ss *session) injectExecute(ctx context.Context, info stmtInfo) error {
	var sql string
	if info.isCopy {
		sql = ss.copySQL(ctx, info)
	} else {
		sql = raiseSQL("25006", "cannot execute "+info.verb+" in a read-only transaction")
	}
	cp := info.isCopy
	steps := []struct {
		msg encoder
		p   *pending
	}{
		{&pgproto3.Close{ObjectType: 'P', Name: injectedName}, &pending{kind: pendClose, swallow: true, copy: cp}},
		{&pgproto3.Close{ObjectType: 'S', Name: injectedName}, &pending{kind: pendClose, swallow: true, copy: cp}},
		{&pgproto3.Parse{Name: injectedName, Query: sql}, &pending{kind: pendParse, swallow: true, copy: cp}},
		{&pgproto3.Bind{DestinationPortal: injectedName, PreparedStatement: injectedName}, &pending{kind: pendBind, swallow: true, copy: cp}},
		{&pgproto3.Execute{Portal: injectedName}, &pending{kind: pendExecute, copy: cp}},
		// Free the (possibly large) statement right away on success.
		{&pgproto3.Close{ObjectType: 'S', Name: injectedName}, &pending{kind: pendClose, swallow: true}},
	}
	for _, st := range steps {
		ss.pending.push(st.p)
		if err := writeEncoded(ss.bw, st.msg); err != nil {
			return err
		}
	}
	if ss.cr.Buffered() == 0 {
		return ss.bw.Flush()
	}
	return nil
}

// rewriteQuery rewrites the statements of a simple Query. It returns the
// SQL to send and, per non-empty statement, whether it is a COPY.
func (ss *session) rewriteQuery(ctx context.Context, sql string) (string, []bool) {
	segs := splitStatements(sql)
	replace := make([]string, len(segs))
	var kinds []bool
	changed := false
	readOnly := ss.srv.isReadOnly()
	for i, seg := range segs {
		info := classify(seg.toks)
		if info.empty {
			continue
		}
		kinds = append(kinds, info.isCopy)
		switch {
		case info.isCopy:
			replace[i], changed = ss.copySQL(ctx, info), true
		case readOnly && info.write:
			replace[i], changed = raiseSQL("25006", "cannot execute "+info.verb+" in a read-only transaction"), true
		}
	}
	if !changed {
		return sql, kinds
	}
	return joinStatements(segs, replace), kinds
}

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
			if h := ss.pending.head(); h != nil {
				switch h.kind {
				case pendExecute:
					isCopy = h.copy
					ss.pending.pop()
				case pendQuery:
					isCopy = h.currentIsCopy()
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
			}
			if tag == "COMMIT" && ss.srv.takeDropCommit() {
				ss.srv.stats.dropped.Add(1)
				return errDropCommit
			}
		case 's': // PortalSuspended
			ss.pending.pop()
		case 'E': // ErrorResponse
			if h := ss.pending.head(); h != nil {
				if h.kind == pendQuery {
					if h.currentIsCopy() {
						ss.srv.stats.copiesFailed.Add(1)
					}
				} else {
					if h.copy {
						ss.srv.stats.copiesFailed.Add(1)
					}
					ss.pending.skipToSync()
				}
			}
		case 'Z': // ReadyForQuery
			ss.pending.readyForQuery()
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
