package redshiftsim

// The client-to-backend half of a session. It is the only place that decides
// what the backend executes: Redshift COPYs become INSERTs (or raised errors),
// and while read-only, writes become raised 25006 errors. In the extended
// protocol the decision is taken at Execute, not Parse, so a statement
// prepared before a fault was switched on still sees it.

import (
	"context"

	"github.com/jackc/pgx/v5/pgproto3"
)

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
			sql, stmts := ss.rewriteQuery(ctx, q.String)
			ss.pending.push(&pending{kind: pendQuery, stmts: stmts})
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
			if info.isCopy || (info.sysRefs && ss.sys) || info.ddl {
				if info.ddl {
					p.Query = rewriteDDLQuery(p.Query)
				} else if info.isCopy {
					// The real statement is produced at Execute; until
					// then the backend holds a placeholder with the same
					// shape (no parameters, no result columns).
					p.Query = copyPlaceholder
				} else {
					p.Query = rewriteSysNames(p.Query, ss.key)
				}
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
			if repl := ss.serialNote(info); repl != "" {
				// A COMMIT that would close a cycle (serial.go).
				info.raise = serialError
			}
			if info.isCopy || info.raise != nil || (info.write && ss.srv.isReadOnly()) {
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
	var run *copyRun
	if info.isCopy {
		sql, run = ss.copySQL(ctx, info)
	} else if info.raise != nil {
		sql = raiseErr(info.raise)
	} else {
		sql = raiseSQL("25006", "cannot execute "+info.verb+" in a read-only transaction")
	}
	cp := info.isCopy
	steps := []struct {
		msg encoder
		p   *pending
	}{
		{&pgproto3.Close{ObjectType: 'P', Name: injectedName}, &pending{kind: pendClose, swallow: true, copy: cp, run: run}},
		{&pgproto3.Close{ObjectType: 'S', Name: injectedName}, &pending{kind: pendClose, swallow: true, copy: cp, run: run}},
		{&pgproto3.Parse{Name: injectedName, Query: sql}, &pending{kind: pendParse, swallow: true, copy: cp, run: run}},
		{&pgproto3.Bind{DestinationPortal: injectedName, PreparedStatement: injectedName}, &pending{kind: pendBind, swallow: true, copy: cp, run: run}},
		{&pgproto3.Execute{Portal: injectedName}, &pending{kind: pendExecute, copy: cp, run: run}},
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
// SQL to send and, per non-empty statement, whether it is a COPY (and its
// run).
func (ss *session) rewriteQuery(ctx context.Context, sql string) (string, []queryStmt) {
	segs := splitStatements(sql)
	replace := make([]string, len(segs))
	var stmts []queryStmt
	changed := false
	readOnly := ss.srv.isReadOnly()
	for i, seg := range segs {
		info := classify(seg.toks)
		if info.empty {
			continue
		}
		st := queryStmt{copy: info.isCopy}
		if repl := ss.serialNote(info); repl != "" {
			// A COMMIT that would close a cycle: ROLLBACK, then 1023.
			replace[i], changed = repl, true
			stmts = append(stmts, st, st)
			continue
		}
		switch {
		case info.ddl:
			replace[i], changed = rewriteDDL(sql, seg.toks), true
		case info.isCopy:
			replace[i], st.run = ss.copySQL(ctx, info)
			changed = true
		case readOnly && info.write:
			replace[i], changed = raiseSQL("25006", "cannot execute "+info.verb+" in a read-only transaction"), true
		case info.sysRefs && ss.sys:
			replace[i], changed = rewriteSysNames(seg.text, ss.key), true
		}
		stmts = append(stmts, st)
	}
	if !changed {
		return sql, stmts
	}
	return joinStatements(segs, replace), stmts
}
