package redshiftsim

import "sync"

// The relay must know which backend reply answers which client request: to
// count COPYs and their rows, to turn the INSERT's tag back into a COPY tag,
// to hide the replies to messages the proxy injected itself, and to spot the
// reply to a COMMIT. The backend answers requests strictly in order, so a
// FIFO of pending requests is enough, provided it follows PostgreSQL's rule
// that after an error in the extended protocol everything up to the next Sync
// is skipped.

type pendKind int

const (
	pendParse pendKind = iota
	pendBind
	pendDescribe
	pendExecute
	pendClose
	pendSync
	pendQuery // simple Query or FunctionCall: ends with ReadyForQuery
)

// pending is one request awaiting its reply.
type pending struct {
	kind    pendKind
	swallow bool        // injected by the proxy: the client must not see the reply
	copy    bool        // part of a COPY's execution
	run     *copyRun    // that COPY's run, once it has one
	stmts   []queryStmt // pendQuery: the non-empty statements
	idx     int         // pendQuery: statement currently executing
}

// queryStmt is one statement of a simple Query.
type queryStmt struct {
	copy bool
	run  *copyRun
}

// currentIsCopy reports whether the statement a pendQuery is executing is a
// COPY.
func (p *pending) currentIsCopy() bool {
	return p.idx < len(p.stmts) && p.stmts[p.idx].copy
}

// copyRun returns the run of the COPY the reply belongs to, or nil.
func (p *pending) copyRun() *copyRun {
	if p.kind == pendQuery {
		if p.idx < len(p.stmts) {
			return p.stmts[p.idx].run
		}
		return nil
	}
	return p.run
}

// pendingQueue is written by the client-reading goroutine and read by the
// backend-reading one.
type pendingQueue struct {
	mu sync.Mutex
	q  []*pending
}

func (q *pendingQueue) push(p *pending) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.q = append(q.q, p)
}

// head returns the oldest pending request, or nil. The returned value is
// only mutated by the backend-reading goroutine.
func (q *pendingQueue) head() *pending {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.q) == 0 {
		return nil
	}
	return q.q[0]
}

func (q *pendingQueue) pop() *pending {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.q) == 0 {
		return nil
	}
	p := q.q[0]
	q.q[0] = nil
	q.q = q.q[1:]
	return p
}

// skipToSync drops the requests the backend ignores after an extended
// protocol error: everything before the next Sync.
func (q *pendingQueue) skipToSync() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.q) > 0 && q.q[0].kind != pendSync && q.q[0].kind != pendQuery {
		q.q[0] = nil
		q.q = q.q[1:]
	}
}

// readyForQuery drops everything up to and including the Sync or Query that
// a ReadyForQuery answers.
func (q *pendingQueue) readyForQuery() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.q) > 0 {
		k := q.q[0].kind
		q.q[0] = nil
		q.q = q.q[1:]
		if k == pendSync || k == pendQuery {
			return
		}
	}
}
