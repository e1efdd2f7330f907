// Package redshiftsim simulates Amazon Redshift for tests: a PostgreSQL
// wire-protocol proxy in front of a real PostgreSQL server that understands
// Redshift's COPY ... FROM 's3://...'.
//
// Everything the client sends passes through unchanged except Redshift
// COPYs, which are rewritten into plain INSERTs carrying the data read from
// S3, so they run inside the client's own transaction (ROLLBACK discards the
// rows, COMMIT keeps them) in both the simple and the extended protocol. The
// server also injects the faults rin must survive (failing COPYs, S3
// refusals, wrong regions, bad credentials, serialization conflicts, a
// read-only cluster during resize, slow commits, lost commit replies), with
// Redshift's SQLSTATEs and texts, see faults.go.
//
// Input is JSON 'auto', CSV or delimited text, and Parquet (FORMAT AS
// PARQUET), which loads by position under Redshift's columnar rules: no
// REGION or other refused option, meta.content_length in every manifest
// entry, as many columns as the table (columnar.go, parquet.go). ORC passes
// the same option checks and is then refused.
//
// In serializable mode (Config.Serializable, SetSerializable; serial.go)
// transactions are checked the way Redshift checks them: of two concurrent
// transactions that each read a table the other writes, one fails with
// error 1023 at COMMIT. Redshift's CREATE TABLE clauses (ENCODE, DISTKEY,
// DISTSTYLE, SORTKEY, BACKUP) are accepted and cut out, a sort key becoming
// an index (ddl.go).
//
// Bad rows are handled as Redshift does (loaderrors.go): a record that is
// not valid input, or whose values do not fit the table, fails the COPY
// with "Load into table 'T' failed.  Check 'stl_load_errors' system table
// for details." unless MAXERROR lets the COPY skip it, and is written to
// stl_load_errors either way, outside the client's transaction. A loaded
// COPY is recorded in stl_load_commits (one row per file, in the COPY's
// transaction), and pg_last_copy_id() / pg_last_copy_count() answer for the
// session. These live in a rinsim schema of the backend database, installed
// by the server (sysobjects.go), and the proxy rewrites the system names
// clients use into it (sysnames.go).
//
// Where the work happens, and what it costs: the proxy parses the input and
// rejects what does not parse; the backend checks the rest against the
// table's types inside the COPY's own statement (rinsim.copy_rows), because
// only the table knows its types, a table created in the client's
// uncommitted transaction is visible only there, and a failed statement
// would abort the client's transaction, ruling out "try, then fall back".
// A COPY whose rows all load costs one function call and one subtransaction
// in the backend and no extra round trip; only rejected rows cost a round
// trip, on a side connection that writes them to stl_load_errors before the
// COPY's reply reaches the client. Query ids come from one counter per
// server (continuing after the ids already recorded in the database);
// simulators sharing a backend database share the tables, so their ids may
// collide. If the objects cannot be installed (no CREATE privilege), COPYs
// load through plain INSERTs without this bookkeeping. NOLOAD checks only
// that the input parses.
package redshiftsim

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5/pgconn"
)

// Config configures a simulator.
type Config struct {
	// Backend is the libpq URL/DSN of the PostgreSQL server to forward to
	// (trust auth, sslmode=disable). Its user and database are used for
	// every client, whatever user the client names; when it names no
	// database, the client's database is used.
	Backend  string
	S3       *s3.Client   // S3 client that reads the objects COPY names (gofakes3 in tests, path-style)
	Objects  Objects      // optional: read objects here instead of through S3
	Addr     string       // listen address; default "127.0.0.1:0"
	TLS      *tls.Config  // optional: answer SSLRequest with 'S' and serve TLS
	Password string       // optional: the proxy demands this cleartext password itself
	Logger   *slog.Logger // optional; default discards
	// Serializable starts the server in serializable mode (serial.go).
	Serializable bool
}

// Server is a running simulator.
type Server struct {
	cfg     Config
	backend *pgconn.Config
	ln      net.Listener
	log     *slog.Logger

	ctx    context.Context // canceled by Close; parent of every session
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	conns  map[net.Conn]struct{} // client and backend connections, closed by Close
	closed bool

	faults  faults
	stats   counters
	nextID  int64 // guarded by mu
	queryID atomic.Int64
	nonce   string // tells this server's sessions from others' in a shared backend
	sys     sysDBs
	serial  serialState
}

// Start checks that the backend is reachable, starts listening and serves
// clients until Close. ctx bounds only the startup; the server's lifetime is
// ended by Close.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Backend == "" {
		return nil, errors.New("redshiftsim: Config.Backend is required")
	}
	bcfg, err := pgconn.ParseConfig(cfg.Backend)
	if err != nil {
		return nil, fmt.Errorf("redshiftsim: parsing backend DSN: %w", err)
	}
	probe, err := pgconn.ConnectConfig(ctx, bcfg)
	if err != nil {
		return nil, fmt.Errorf("redshiftsim: connecting to backend: %w", err)
	}
	_ = probe.Close(ctx)
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("redshiftsim: listen: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &Server{
		cfg:     cfg,
		backend: bcfg,
		ln:      ln,
		log:     log.With("component", "redshiftsim"),
		ctx:     sctx,
		cancel:  cancel,
		conns:   make(map[net.Conn]struct{}),
		nonce:   fmt.Sprintf("%016x", rand.Uint64()),
	}
	s.serial.on = cfg.Serializable
	s.wg.Add(1)
	go s.acceptLoop()
	s.log.Info("redshift simulator listening", "addr", s.Addr(), "tls", cfg.TLS != nil)
	return s, nil
}

// Addr returns the listening address, "127.0.0.1:port".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops listening, closes every client and backend connection and
// waits for all goroutines to finish.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	err := s.ln.Close()
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	s.closeSys()
	return err
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	backoff := 5 * time.Millisecond
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// Temporary failure (e.g. too many open files): back off.
			s.log.Warn("accept failed", "err", err)
			select {
			case <-time.After(backoff):
			case <-s.ctx.Done():
				return
			}
			backoff = min(backoff*2, time.Second)
			continue
		}
		backoff = 5 * time.Millisecond
		if !s.track(c) {
			_ = c.Close()
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.untrack(c)
			s.serve(c)
		}()
	}
}

// track registers a connection so Close can close it; it refuses once the
// server is closed.
func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	_ = c.Close()
}

func (s *Server) newSessionID() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	return s.nextID
}
