package redshiftsim

import (
	"sync"
	"sync/atomic"
	"time"
)

// Fault injection lets tests reproduce the Redshift failures rin must
// survive (load errors, cluster resize, slow commits, a commit whose reply is
// lost) deterministically, without a real cluster. All methods are safe for
// concurrent use; the faults apply to every client of the server.

// Stats are counters since Start.
type Stats struct {
	Copies            int64 `json:"copies"`             // COPYs that completed successfully
	CopiesFailed      int64 `json:"copies_failed"`      // COPYs that ended in an error
	RowsLoaded        int64 `json:"rows_loaded"`        // rows inserted by successful COPYs
	Connections       int64 `json:"connections"`        // client sessions established
	ActiveConnections int64 `json:"active_connections"` // client sessions open now
	CommitsDropped    int64 `json:"commits_dropped"`    // COMMITs whose reply was withheld
}

// FaultState is the current fault configuration, as reported by the control
// handler.
type FaultState struct {
	FailCopies   int    `json:"fail_copies"`
	FailSQLState string `json:"fail_sqlstate,omitempty"`
	FailMessage  string `json:"fail_message,omitempty"`
	ReadOnly     bool   `json:"read_only"`
	CopyLatency  string `json:"copy_latency"`
	DropCommits  int    `json:"drop_commits"`
}

type faults struct {
	mu           sync.Mutex
	failCopies   int
	failSQLState string
	failMessage  string
	readOnly     bool
	latency      time.Duration
	dropCommits  int
}

type counters struct {
	copies, copiesFailed, rows, conns, active, dropped atomic.Int64
}

// FailNextCopies makes the next n COPY statements fail with the given
// SQLSTATE (XX000 if empty or invalid) and message. n <= 0 clears it.
func (s *Server) FailNextCopies(n int, sqlstate, message string) {
	if sqlstate == "" {
		sqlstate = "XX000"
	}
	if message == "" {
		message = "redshiftsim: injected COPY failure"
	}
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.failCopies = max(n, 0)
	s.faults.failSQLState, s.faults.failMessage = sqlstate, message
}

// SetReadOnly makes every write statement fail with SQLSTATE 25006, as
// Redshift does while a cluster is being resized.
func (s *Server) SetReadOnly(on bool) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.readOnly = on
}

// SetCopyLatency adds d to every COPY, modelling Redshift's slow loads and
// commits.
func (s *Server) SetCopyLatency(d time.Duration) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.latency = max(d, 0)
}

// DropAfterNextCommits makes the next n successful COMMITs close the client
// connection instead of replying: the data is committed but the client
// cannot know it. n <= 0 clears it.
func (s *Server) DropAfterNextCommits(n int) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.dropCommits = max(n, 0)
}

// ResetFaults clears every fault (not the counters).
func (s *Server) ResetFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.failCopies, s.faults.failSQLState, s.faults.failMessage = 0, "", ""
	s.faults.readOnly, s.faults.latency, s.faults.dropCommits = false, 0, 0
}

// Faults returns the current fault configuration.
func (s *Server) Faults() FaultState {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	return FaultState{
		FailCopies:   s.faults.failCopies,
		FailSQLState: s.faults.failSQLState,
		FailMessage:  s.faults.failMessage,
		ReadOnly:     s.faults.readOnly,
		CopyLatency:  s.faults.latency.String(),
		DropCommits:  s.faults.dropCommits,
	}
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	return Stats{
		Copies:            s.stats.copies.Load(),
		CopiesFailed:      s.stats.copiesFailed.Load(),
		RowsLoaded:        s.stats.rows.Load(),
		Connections:       s.stats.conns.Load(),
		ActiveConnections: s.stats.active.Load(),
		CommitsDropped:    s.stats.dropped.Load(),
	}
}

func (s *Server) isReadOnly() bool {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	return s.faults.readOnly
}

func (s *Server) copyLatency() time.Duration {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	return s.faults.latency
}

// takeCopyFailure consumes one injected COPY failure, if any.
func (s *Server) takeCopyFailure() *pgError {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	if s.faults.failCopies <= 0 {
		return nil
	}
	s.faults.failCopies--
	return &pgError{Code: s.faults.failSQLState, Message: s.faults.failMessage}
}

// takeDropCommit consumes one dropped-commit fault, if any.
func (s *Server) takeDropCommit() bool {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	if s.faults.dropCommits <= 0 {
		return false
	}
	s.faults.dropCommits--
	return true
}
