package redshiftsim

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"
)

// One client connection is one session: one backend connection and two
// goroutines relaying frames in each direction. The client-to-backend side
// rewrites Redshift COPYs (and, in read-only mode, writes) and records what
// it sent; the backend-to-client side uses that record to fix up replies.

type session struct {
	srv *Server
	id  int64
	log *slog.Logger

	key      string // names the session in the backend's load bookkeeping
	database string // the backend database ("" = the DSN's default)
	sys      bool   // the load objects are installed there (sysobjects.go)
	pid      uint32 // the backend process, Redshift's "session"

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

	ser sessionSerial // serializable mode's view of the session (serial.go)
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
	ss.key = s.nonce + "-" + strconv.FormatInt(ss.id, 10)
	ss.database = s.backend.Database
	if ss.database == "" {
		ss.database = params["database"]
	}
	ss.sys = s.ensureSys(sctx, ss.database)
	hc, err := ss.connectBackend(sctx, params)
	if err != nil {
		stop()
		scancel()
		ss.log.Warn("backend connection failed", "err", err)
		ss.backendFailure(err)
		return
	}
	ss.backend, ss.pid = hc.Conn, hc.PID
	if !s.track(ss.backend) {
		stop()
		scancel()
		_ = ss.backend.Close()
		return
	}
	defer s.untrack(ss.backend)
	defer ss.serialEnd()
	s.stats.conns.Add(1)
	s.stats.active.Add(1)
	defer s.stats.active.Add(-1)
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

// resetClient makes the coming close of the client connection an abortive
// one (TCP RST), like a network failure. An orderly close would make lib/pq
// report driver.ErrBadConn, which database/sql treats as "never sent" and
// silently retries on DB.Exec: not what a lost commit reply looks like.
func (ss *session) resetClient() {
	c := ss.client
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if tcp, ok := c.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
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
