package redshiftsim

import (
	"strings"
	"sync"
	"time"
)

// Serializable mode runs transactions the way Redshift does, so that a
// test catches a guard that only works on PostgreSQL. Redshift runs every
// transaction serializable and detects conflicts per table: of two
// concurrent transactions that each read a table the other writes, one is
// aborted with error 1023 (SQLSTATE XX000, message "1023", DETAIL
// "Serializable isolation violation on table - <id>, transactions forming
// the cycle are: ..."). PostgreSQL's READ COMMITTED, which the backend runs,
// would let both commit. The proxy therefore keeps its own books:
//
//   - For every explicit transaction (BEGIN ... COMMIT) it notes the tables
//     each statement reads and writes, from the statement's text
//     (access.go): COPY and INSERT write, DELETE and UPDATE read and write,
//     FROM/JOIN/USING read. LOCK, SET and DDL touch no data.
//   - The transaction's snapshot is taken at its first statement that reads
//     or writes a table, as in Redshift (and PostgreSQL): a LOCK first, then
//     the reads, sees everything committed before the lock was granted. The
//     proxy holds that statement back until every COMMIT already sent has
//     been answered, so its books and the backend agree on what the
//     snapshot saw.
//   - At COMMIT it looks for a cycle through the committing transaction in
//     the dependency graph of the transactions that overlap it (read-write:
//     a read a table b wrote and did not see b's rows; write-read: b saw a's
//     rows; write-write: a committed before b). A cycle means no serial order
//     gives the same result: the COMMIT is replaced by a ROLLBACK and the
//     1023 error, which the client receives as the COMMIT's answer, the
//     session back outside any transaction.
//
// The approximation, besides reading names from SQL text: tables are told
// apart by name (an unqualified name matches that table in any schema);
// reads inside functions and views are not seen; statements outside an
// explicit transaction take no part; only a COMMIT sent as a simple query
// is checked (lib/pq, pgx and pgconn send it so), one in the extended
// protocol fails with 1023 too but leaves the transaction aborted rather
// than ended; cycles are looked for only among transactions that overlap an
// open one; and Redshift's detection is more conservative still in places
// (it may abort a transaction at the statement that creates the conflict,
// not at COMMIT). The outcome that matters is the same: two concurrent
// transactions that read and write a table in common do not both commit.

// Server.SetSerializable switches the mode; Config.Serializable sets it at
// start; Stats().SerializationAborts counts the COMMITs it refused.

// serialState is the server's books, guarded by mu.
type serialState struct {
	mu     sync.Mutex
	on     bool
	seq    uint64
	open   map[*sxact]bool // started (snapshot taken), not yet committing
	done   []*sxact        // committing or committed, while they may close a cycle
	aborts int64
}

// sxact is one explicit transaction.
type sxact struct {
	pid    uint32
	start  uint64 // snapshot; 0 until its first statement that touches a table
	order  uint64 // when its COMMIT was sent
	commit uint64 // when the COMMIT was answered; 0 while committing
	reads  []tableRef
	writes []tableRef
	// resolved is closed once the COMMIT's outcome is known.
	resolved chan struct{}
}

// sessionSerial is one session's part of the books, guarded by the
// server's serialState.mu.
type sessionSerial struct {
	inBlock    bool
	failed     bool // the backend reports the transaction aborted
	tx         *sxact
	committing *sxact
}

// txnKind says whether a statement begins or ends a transaction.
type txnKind uint8

const (
	txnNone txnKind = iota
	txnBegin
	txnCommit
	txnRollback
)

// txnOf classifies transaction control statements.
func txnOf(toks []token) txnKind {
	if len(toks) == 0 || toks[0].kind != tokWord {
		return txnNone
	}
	switch strings.ToUpper(toks[0].val) {
	case "BEGIN":
		return txnBegin
	case "START":
		if len(toks) > 1 && toks[1].is("TRANSACTION") {
			return txnBegin
		}
	case "COMMIT", "END":
		if len(toks) > 1 && toks[1].is("PREPARED") {
			return txnNone
		}
		return txnCommit
	case "ROLLBACK", "ABORT":
		if len(toks) > 1 && (toks[1].is("TO") || toks[1].is("PREPARED")) {
			return txnNone
		}
		return txnRollback
	}
	return txnNone
}

// SetSerializable switches serializable mode on or off (see serial.go).
func (s *Server) SetSerializable(on bool) {
	st := &s.serial
	st.mu.Lock()
	defer st.mu.Unlock()
	st.on = on
	st.open, st.done = nil, nil
}

// Serializable reports whether serializable mode is on.
func (s *Server) Serializable() bool {
	s.serial.mu.Lock()
	defer s.serial.mu.Unlock()
	return s.serial.on
}

// serialNote records one statement the session is about to send. For a
// COMMIT that would close a cycle it returns what to send instead.
func (ss *session) serialNote(info stmtInfo) string {
	st := &ss.srv.serial
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.on {
		return ""
	}
	s := &ss.ser
	switch info.txn {
	case txnBegin:
		st.drop(s.tx)
		s.inBlock, s.failed, s.tx = true, false, &sxact{pid: ss.pid}
	case txnRollback:
		st.drop(s.tx)
		s.inBlock, s.tx = false, nil
	case txnCommit:
		t := s.tx
		s.inBlock, s.tx = false, nil
		if t == nil || t.start == 0 || s.failed {
			st.drop(t)
			return "" // nothing read or written, or already rolling back
		}
		delete(st.open, t)
		if u, table, ok := st.cycle(t); ok {
			st.aborts++
			ss.log.Debug("COMMIT refused: serializable isolation violation", "table", table.String(), "other_pid", u.pid)
			return "ROLLBACK; " + raiseErr(&pgError{Code: "XX000", Message: "1023", Detail: serialDetail(table, t, u)})
		}
		st.seq++
		t.order, t.resolved = st.seq, make(chan struct{})
		st.done = append(st.done, t)
		s.committing = t
	default:
		if !s.inBlock || s.tx == nil || info.access.empty() {
			return ""
		}
		t := s.tx
		if t.start == 0 {
			st.awaitCommits()
			st.seq++
			t.start = st.seq
			if st.open == nil {
				st.open = map[*sxact]bool{}
			}
			st.open[t] = true
		}
		t.reads = append(t.reads, info.access.reads...)
		t.writes = append(t.writes, info.access.writes...)
	}
	return ""
}

// serialCommitted records that the backend answered the session's COMMIT
// with COMMIT: it is committed, in this order.
func (ss *session) serialCommitted() {
	st := &ss.srv.serial
	st.mu.Lock()
	defer st.mu.Unlock()
	if t := ss.ser.committing; t != nil {
		st.seq++
		t.commit = st.seq
		close(t.resolved)
		ss.ser.committing = nil
		st.trim()
	}
}

// serialReady follows the backend's transaction status (ReadyForQuery):
// 'I' idle, 'T' in a transaction, 'E' in a failed one.
func (ss *session) serialReady(status byte) {
	st := &ss.srv.serial
	st.mu.Lock()
	defer st.mu.Unlock()
	s := &ss.ser
	s.failed = status == 'E'
	if status == 'I' && s.committing != nil {
		// The COMMIT did not answer COMMIT: the transaction rolled back.
		st.remove(s.committing)
		close(s.committing.resolved)
		s.committing = nil
	}
}

// serialEnd forgets the session's open transaction. A COMMIT left
// unanswered may have committed: it is counted as committed.
func (ss *session) serialEnd() {
	st := &ss.srv.serial
	st.mu.Lock()
	defer st.mu.Unlock()
	st.drop(ss.ser.tx)
	if t := ss.ser.committing; t != nil {
		st.seq++
		t.commit = st.seq
		close(t.resolved)
	}
	ss.ser = sessionSerial{}
}

// awaitCommits waits (with st.mu released) until every COMMIT sent so far
// has been answered, so that a snapshot taken now sees exactly the
// transactions the books call committed. It gives up after a few seconds:
// the books then count those as not seen, which can only add conflicts.
func (st *serialState) awaitCommits() {
	deadline := time.Now().Add(5 * time.Second)
	for {
		var wait chan struct{}
		for _, u := range st.done {
			if u.commit == 0 {
				wait = u.resolved
				break
			}
		}
		if wait == nil {
			return
		}
		left := time.Until(deadline)
		if left <= 0 {
			return
		}
		st.mu.Unlock()
		select {
		case <-wait:
		case <-time.After(left):
		}
		st.mu.Lock()
	}
}

// drop forgets a transaction that ends without committing.
func (st *serialState) drop(t *sxact) {
	if t != nil {
		delete(st.open, t)
	}
}

// remove takes a committing transaction off the books.
func (st *serialState) remove(t *sxact) {
	for i, u := range st.done {
		if u == t {
			st.done = append(st.done[:i], st.done[i+1:]...)
			return
		}
	}
}

// maxDone bounds the books (a transaction left open for a very long time
// would otherwise keep every later one).
const maxDone = 10000

// trim forgets committed transactions that no open one overlaps.
func (st *serialState) trim() {
	var oldest uint64
	for t := range st.open {
		if oldest == 0 || t.start < oldest {
			oldest = t.start
		}
	}
	kept := st.done[:0]
	for _, u := range st.done {
		if u.commit == 0 || (oldest != 0 && u.commit > oldest) {
			kept = append(kept, u)
		}
	}
	for i := len(kept); i < len(st.done); i++ {
		st.done[i] = nil
	}
	st.done = kept
	if n := len(st.done); n > maxDone {
		st.done = append([]*sxact(nil), st.done[n-maxDone:]...)
	}
}

// serialAborts is the number of COMMITs refused so far.
func (s *Server) serialAborts() int64 {
	s.serial.mu.Lock()
	defer s.serial.mu.Unlock()
	return s.serial.aborts
}

// serialError is the 1023 a COMMIT sent in the extended protocol fails with.
var serialError = &pgError{Code: "XX000", Message: "1023", Detail: "Serializable isolation violation on table (redshiftsim)"}
