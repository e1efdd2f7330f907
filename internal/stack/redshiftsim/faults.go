package redshiftsim

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Fault injection lets tests reproduce the Redshift failures rin must
// survive deterministically, without a real cluster. All methods are safe
// for concurrent use; the faults apply to every client of the server, and
// ResetFaults clears them all:
//
//   - FailNextCopies: the next n COPYs fail with a given SQLSTATE/message.
//   - FailNextCopiesInto, SerializationConflictsInto: the same, only for
//     COPYs into one table (tablefaults.go); the latter as error 1023.
//   - DenyS3/AllowS3: S3 refuses a bucket or key prefix (403 AccessDenied).
//   - SetClusterRegion, SetBucketRegion: a COPY reading a bucket outside its
//     region fails (301 PermanentRedirect).
//   - ExpireToken, InvalidAccessKey: COPYs with those credentials fail (400
//     ExpiredToken, 403 InvalidAccessKeyId). S3 texts: s3faults.go.
//   - SetReadOnly: writes fail with 25006, as during a resize.
//   - SetCopyLatency: every COPY takes longer.
//   - DropAfterNextCommits: a COMMIT's reply is lost (the data commits).
//   - SetSerializable: transactions are checked as Redshift checks them,
//     1023 for one of two that conflict (serial.go). Not a fault, a mode;
//     ResetFaults leaves it as it is.
//
// Bad rows in the data are not a fault but the data itself: they fail the
// COPY, or are skipped under MAXERROR, as load.go and loaderrors.go
// describe.

// Stats are counters since Start.
type Stats struct {
	Copies            int64 `json:"copies"`             // COPYs that completed successfully
	CopiesFailed      int64 `json:"copies_failed"`      // COPYs that ended in an error
	RowsLoaded        int64 `json:"rows_loaded"`        // rows inserted by successful COPYs
	RowsRejected      int64 `json:"rows_rejected"`      // bad rows written to stl_load_errors
	Connections       int64 `json:"connections"`        // client sessions established
	ActiveConnections int64 `json:"active_connections"` // client sessions open now
	CommitsDropped    int64 `json:"commits_dropped"`    // COMMITs whose reply was withheld
	// SerializationAborts counts COMMITs refused with 1023 in serializable
	// mode (serial.go), not the injected ones.
	SerializationAborts int64 `json:"serialization_aborts"`
}

// FaultState is the current fault configuration, as reported by the control
// handler. Tokens and access keys are secrets even in tests, so only their
// number is reported.
type FaultState struct {
	FailCopies        int               `json:"fail_copies"`
	FailSQLState      string            `json:"fail_sqlstate,omitempty"`
	FailMessage       string            `json:"fail_message,omitempty"`
	TableFailures     []TableFailure    `json:"table_failures,omitempty"`
	ReadOnly          bool              `json:"read_only"`
	CopyLatency       string            `json:"copy_latency"`
	DropCommits       int               `json:"drop_commits"`
	DeniedS3          []string          `json:"denied_s3,omitempty"` // "bucket/prefix"
	ClusterRegion     string            `json:"cluster_region"`
	BucketRegions     map[string]string `json:"bucket_regions,omitempty"`
	ExpiredTokens     int               `json:"expired_tokens"`
	InvalidAccessKeys int               `json:"invalid_access_keys"`
	Serializable      bool              `json:"serializable"`
}

type faults struct {
	mu           sync.Mutex
	failCopies   int
	failSQLState string
	failMessage  string
	tables       []*tableFault
	readOnly     bool
	latency      time.Duration
	dropCommits  int

	denied        []s3Prefix
	clusterRegion string // "" = defaultRegion
	bucketRegions map[string]string
	expiredTokens map[string]bool
	invalidKeys   map[string]bool
}

type counters struct {
	copies, copiesFailed, rows, rejected, conns, active, dropped atomic.Int64
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

// ResetFaults clears every fault (not the counters), including the S3
// rules, the regions (back to us-east-1 everywhere) and per-table rules.
func (s *Server) ResetFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	f := &s.faults
	f.failCopies, f.failSQLState, f.failMessage, f.tables = 0, "", "", nil
	f.readOnly, f.latency, f.dropCommits = false, 0, 0
	f.denied, f.clusterRegion, f.bucketRegions = nil, "", nil
	f.expiredTokens, f.invalidKeys = nil, nil
}

// Faults returns the current fault configuration.
func (s *Server) Faults() FaultState {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	f := &s.faults
	st := FaultState{
		FailCopies:        f.failCopies,
		FailSQLState:      f.failSQLState,
		FailMessage:       f.failMessage,
		ReadOnly:          f.readOnly,
		CopyLatency:       f.latency.String(),
		DropCommits:       f.dropCommits,
		ClusterRegion:     f.clusterRegion,
		ExpiredTokens:     len(f.expiredTokens),
		InvalidAccessKeys: len(f.invalidKeys),
	}
	if st.ClusterRegion == "" {
		st.ClusterRegion = defaultRegion
	}
	st.Serializable = s.Serializable()
	for _, t := range f.tables {
		st.TableFailures = append(st.TableFailures, TableFailure{
			Table: strings.Join(t.parts, "."), Remaining: t.remaining, SQLState: t.sqlstate, Message: t.message, Serialization: t.serialization,
		})
	}
	for _, r := range f.denied {
		st.DeniedS3 = append(st.DeniedS3, r.bucket+"/"+r.prefix)
	}
	sort.Strings(st.DeniedS3)
	if len(f.bucketRegions) > 0 {
		st.BucketRegions = make(map[string]string, len(f.bucketRegions))
		for b, r := range f.bucketRegions {
			st.BucketRegions[b] = r
		}
	}
	return st
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	return Stats{
		Copies:            s.stats.copies.Load(),
		CopiesFailed:      s.stats.copiesFailed.Load(),
		RowsLoaded:        s.stats.rows.Load(),
		RowsRejected:      s.stats.rejected.Load(),
		Connections:       s.stats.conns.Load(),
		ActiveConnections: s.stats.active.Load(),
		CommitsDropped:    s.stats.dropped.Load(),

		SerializationAborts: s.serialAborts(),
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
