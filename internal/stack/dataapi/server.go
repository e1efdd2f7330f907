package dataapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Limits of the real service that the stand-in enforces, so that code
// tested against it does not build requests the real one refuses.
const (
	MaxSQLBytes       = 100 * 1024 // one SQL statement
	MaxBatchStatement = 40         // statements in one BatchExecuteStatement
)

// Config configures a stand-in.
type Config struct {
	// Backend is the libpq URL of the database statements run in: the
	// Redshift simulator's (stack.Stack.RedshiftDSN). Required.
	Backend string
	// Database, when set, is the only database name requests may use;
	// others fail like a missing database does. Empty accepts any name
	// (all are served by Backend).
	Database string
	// Addr is the listen address; default "127.0.0.1:0".
	Addr string
	// PageSize bounds the records of one GetStatementResult page
	// (default 1000).
	PageSize int
	Logger   *slog.Logger // optional; default discards
}

// Server is a running stand-in.
type Server struct {
	cfg  Config
	log  *slog.Logger
	ln   net.Listener
	http *http.Server

	ctx    context.Context // cancelled by Close: stops running statements
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	stmts  map[string]*statement
	tokens map[string]string // ClientToken -> statement id
	count  int64             // statements submitted
	qid    int64             // last RedshiftQueryId handed out
}

// Start listens and serves until Close.
func Start(cfg Config) (*Server, error) {
	if cfg.Backend == "" {
		return nil, errors.New("dataapi: Config.Backend is required")
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 1000
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("dataapi: listen: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg: cfg, log: log, ln: ln, ctx: ctx, cancel: cancel,
		stmts: map[string]*statement{}, tokens: map[string]string{},
	}
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go s.http.Serve(ln)
	return s, nil
}

// Endpoint is the URL to give the SDK as BaseEndpoint or in
// AWS_ENDPOINT_URL_REDSHIFT_DATA.
func (s *Server) Endpoint() string { return "http://" + s.ln.Addr().String() }

// Submitted is how many statements (a batch counts once) were submitted.
func (s *Server) Submitted() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// Close stops serving, cancels running statements (their transactions roll
// back) and waits for them.
func (s *Server) Close() error {
	err := s.http.Close()
	s.cancel()
	s.wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// ServeHTTP dispatches on X-Amz-Target.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeError(w, &apiError{Type: "UnknownOperationException", Message: "POST only", status: 404})
		return
	}
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "RedshiftData.")
	if !ok {
		writeError(w, &apiError{Type: "UnknownOperationException", Message: "missing or foreign X-Amz-Target", status: 400})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		writeError(w, &apiError{Type: "InternalServerException", Message: err.Error(), status: 500})
		return
	}
	var out any
	switch op {
	case "ExecuteStatement":
		out, err = decodeThen(body, s.execute)
	case "BatchExecuteStatement":
		out, err = decodeThen(body, s.batchExecute)
	case "DescribeStatement":
		out, err = decodeThen(body, s.describe)
	case "GetStatementResult":
		out, err = decodeThen(body, s.result)
	case "CancelStatement":
		out, err = decodeThen(body, s.cancelStatement)
	default:
		err = &apiError{Type: "UnknownOperationException", Message: "operation " + op + " is not simulated", status: 400}
	}
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = &apiError{Type: "InternalServerException", Message: err.Error(), status: 500}
		}
		s.log.Debug("dataapi: request refused", "op", op, "type", ae.Type, "message", ae.Message)
		writeError(w, ae)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(out)
}

func decodeThen[In, Out any](body []byte, f func(*In) (Out, error)) (any, error) {
	in := new(In)
	if err := json.Unmarshal(body, in); err != nil {
		return nil, &apiError{Type: "SerializationException", Message: err.Error(), status: 400}
	}
	return f(in)
}

func writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", e.Type)
	w.WriteHeader(e.status)
	json.NewEncoder(w).Encode(e)
}

func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }
