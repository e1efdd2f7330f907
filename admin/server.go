package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/journal"
)

// ServerOptions configure the admin server rin runs.
type ServerOptions struct {
	Journal *journal.Journal
	// Engine is the running engine; nil serves the journal alone (no
	// engine counters in /metrics, requeue straight to the journal).
	Engine Engine
	// Socket is the unix socket path; "" serves none.
	Socket string
	// Addr is an optional loopback TCP address, served read-only.
	Addr    string
	Version string
	Logger  *slog.Logger
	// AckedRefresh bounds how often /metrics recounts acked jobs by
	// target and rejected messages; 0 means DefaultAckedRefresh.
	AckedRefresh time.Duration
}

// Health is what /healthz answers; rin-journal uses it to find out that rin
// runs and which journal it holds.
type Health struct {
	Status  string    `json:"status"`
	PID     int       `json:"pid"`
	Version string    `json:"version"`
	Journal string    `json:"journal"` // absolute path
	Started time.Time `json:"started"`
	// Problems say why Status is "degraded" rather than "ok": rin runs,
	// but something needs a person before data is lost.
	Problems []string `json:"problems,omitempty"`
	// Held lists the scopes an environment fault holds (jobs wait).
	Held []fsm.Hold `json:"held,omitempty"`
}

// Server is the running admin interface.
type Server struct {
	log     *slog.Logger
	servers []*http.Server
	addrs   []net.Addr
	wg      sync.WaitGroup
}

// Start listens on the socket (and the address, if any) and serves in the
// background until Shutdown. It fails, serving nothing, if any listener
// cannot be set up.
func Start(ctx context.Context, o ServerOptions) (*Server, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Socket == "" && o.Addr == "" {
		return nil, fmt.Errorf("admin: %w: neither a socket nor an address", ErrBadRequest)
	}
	abs, err := filepath.Abs(o.Journal.Path())
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	h := &handler{
		local:   &Local{Journal: o.Journal},
		engine:  o.Engine,
		counter: newJobCounter(o.Journal, o.AckedRefresh),
		health:  Health{Status: "ok", PID: os.Getpid(), Version: o.Version, Journal: abs, Started: time.Now().UTC()},
		log:     o.Logger,
	}
	if o.Engine != nil {
		h.local.Engine = o.Engine
	}
	if h.metrics, err = metricsHandler(newCollector(h.counter, o.Engine, o.Version, o.Logger), o.Logger); err != nil {
		return nil, err
	}
	var listeners []net.Listener
	var handlers []http.Handler
	closeAll := func() {
		for _, l := range listeners {
			l.Close()
		}
	}
	if o.Socket != "" {
		if len(o.Socket) > maxSocketPath {
			return nil, fmt.Errorf("admin socket %s: %w: path longer than %d bytes", o.Socket, ErrBadRequest, maxSocketPath)
		}
		l, err := listenUnix(ctx, o.Socket, o.Logger)
		if err != nil {
			return nil, err
		}
		listeners, handlers = append(listeners, l), append(handlers, h.routes(false))
	}
	if o.Addr != "" {
		l, err := listenLoopback(ctx, o.Addr)
		if err != nil {
			closeAll()
			return nil, err
		}
		listeners, handlers = append(listeners, l), append(handlers, h.routes(true))
	}
	s := &Server{log: o.Logger}
	for i, l := range listeners {
		srv := &http.Server{
			Handler:           handlers[i],
			ReadHeaderTimeout: 5 * time.Second,
			ErrorLog:          slog.NewLogLogger(o.Logger.Handler(), slog.LevelWarn),
		}
		s.servers = append(s.servers, srv)
		s.addrs = append(s.addrs, l.Addr())
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				o.Logger.Error("admin listener stopped", "addr", l.Addr(), "err", err)
			}
		}()
		o.Logger.Info("admin interface listening", "addr", l.Addr().String(), "network", l.Addr().Network(), "read_only", l.Addr().Network() == "tcp")
	}
	return s, nil
}

// Addrs are the addresses served: the socket first, then the TCP address.
func (s *Server) Addrs() []net.Addr { return s.addrs }

// Shutdown stops accepting, lets requests in progress finish until ctx
// ends, and removes the socket file.
func (s *Server) Shutdown(ctx context.Context) error {
	var errs []error
	for _, srv := range s.servers {
		if err := srv.Shutdown(ctx); err != nil {
			srv.Close()
			errs = append(errs, err)
		}
	}
	s.wg.Wait()
	return errors.Join(errs...)
}

// handler serves the admin API.
type handler struct {
	local   *Local
	engine  Engine
	counter *jobCounter
	metrics http.Handler // /metrics (metrics.go)
	health  Health
	log     *slog.Logger
}

// routes builds the mux. The read-only one (TCP) refuses changes: any local
// user, or a web page in a local browser, can reach a loopback port.
func (h *handler) routes(readOnly bool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, h.healthNow()) })
	mux.Handle("GET /metrics", h.metrics)
	mux.HandleFunc("GET /v1/jobs", h.dump)
	mux.HandleFunc("GET /v1/rejected", h.rejected)
	mux.HandleFunc("GET /v1/stats", h.stats)
	mux.HandleFunc("GET /v1/check", h.check)
	change := func(fn http.HandlerFunc) http.HandlerFunc {
		if readOnly {
			return func(w http.ResponseWriter, r *http.Request) { writeError(w, ErrReadOnly) }
		}
		return fn
	}
	mux.HandleFunc("POST /v1/lookup", h.lookup) // reads only (submit.go)
	mux.HandleFunc("POST /v1/requeue", change(h.requeue))
	mux.HandleFunc("POST /v1/forget", change(h.forget))
	mux.HandleFunc("POST /v1/submit", change(h.submit))
	return h.recoverPanics(mux)
}

// healthNow is /healthz's answer: degraded when the oldest message rin
// holds has reached 75% of the queue's retention (SQS would delete it
// unread at 100%). It stays 200 either way: a restart would not help, a
// person would.
func (h *handler) healthNow() Health {
	out := h.health
	if h.engine == nil {
		return out
	}
	s := h.engine.Stats()
	if s.RetentionAtRisk() {
		out.Status = "degraded"
		out.Problems = append(out.Problems, fmt.Sprintf("the oldest undeleted message is %s old, %.0f%% of the queue's retention (%s): SQS deletes it unread at the limit",
			time.Duration(s.OldestMessageAgeSeconds*float64(time.Second)).Round(time.Second), 100*s.OldestMessageAgeSeconds/s.RetentionSeconds,
			time.Duration(s.RetentionSeconds*float64(time.Second))))
	}
	out.Held = h.engine.Holds()
	return out
}

// recoverPanics answers a request whose handler panicked with an error.
// bbolt panics on a page it cannot parse; the operator asking should learn
// that the journal is damaged, and rin should log it once, without the
// connection just dropping.
func (h *handler) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				err := fmt.Errorf("%s %s: %w: %v", r.Method, r.URL.Path, journal.ErrCorrupt, v)
				h.log.Error("admin request failed reading the journal", "err", err)
				writeError(w, err)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// dump encodes the selected jobs into memory inside the read transaction
// and sends them after it ends: a client reading slowly (a pager) must not
// hold a read transaction open, which would stall rin's writes once the
// file needs to grow.
func (h *handler) dump(w http.ResponseWriter, r *http.Request) {
	f, err := filterFromQuery(r.URL.Query())
	if err != nil {
		writeError(w, err)
		return
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	if err := h.local.Dump(r.Context(), f, func(rec Record) error { return enc.Encode(rec) }); err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Write(buf.Bytes())
}

// rejected streams straight to the client: Local.Rejected has ended its
// read transaction before it hands over the first message, so a slow
// reader holds nothing open, and an error can only come before the first
// line, while the status can still say so.
func (h *handler) rejected(w http.ResponseWriter, r *http.Request) {
	f, err := rejectedFilterFromQuery(r.URL.Query())
	if err != nil {
		writeError(w, err)
		return
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	started := false
	start := func() {
		if !started {
			w.Header().Set("Content-Type", "application/x-ndjson")
			w.WriteHeader(http.StatusOK)
			started = true
		}
	}
	err = h.local.Rejected(r.Context(), f, func(rec RejectedRecord) error {
		start()
		return enc.Encode(rec)
	})
	switch {
	case err != nil && !started:
		writeError(w, err)
	case err != nil:
		// Writing failed: the client went away, nobody left to tell.
		h.log.Debug("admin: rejected messages not all sent", "err", err)
	default:
		start()
	}
}

func (h *handler) stats(w http.ResponseWriter, r *http.Request) {
	var o StatsOptions
	q := r.URL.Query()
	if v := q.Get("top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, fmt.Errorf("%w: top %q", ErrBadRequest, v))
			return
		}
		o.TopErrors = n
	}
	d, err := durationParam(q, "errors_since")
	if err != nil {
		writeError(w, err)
		return
	}
	o.ErrorsSince = d
	st, err := h.local.Stats(r.Context(), o)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (h *handler) check(w http.ResponseWriter, r *http.Request) {
	problems, err := h.local.Check(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, checkResponse{Problems: nonNil(problems)})
}

func (h *handler) requeue(w http.ResponseWriter, r *http.Request) {
	var req RequeueRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, err)
		return
	}
	recs, err := h.local.Requeue(r.Context(), req)
	if err != nil {
		writeError(w, err)
		return
	}
	h.log.Info("admin: jobs requeued", "jobs", len(recs), "all_failed", req.AllFailed, "target", req.Target)
	writeJSON(w, http.StatusOK, requeueResponse{Requeued: nonNil(recs)})
}

func (h *handler) forget(w http.ResponseWriter, r *http.Request) {
	var req forgetRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, err)
		return
	}
	d, err := time.ParseDuration(req.OlderThan)
	if err != nil {
		writeError(w, fmt.Errorf("%w: older_than %q: %w", ErrBadRequest, req.OlderThan, err))
		return
	}
	res, err := h.local.Forget(r.Context(), d)
	if err != nil {
		writeError(w, err)
		return
	}
	h.log.Info("admin: acked jobs forgotten", "jobs", res.Forgotten, "cutoff", res.Cutoff)
	writeJSON(w, http.StatusOK, res)
}

type checkResponse struct {
	Problems []string `json:"problems"`
}

type requeueResponse struct {
	Requeued []Record `json:"requeued"`
}

type forgetRequest struct {
	OlderThan string `json:"older_than"` // Go duration syntax
}

func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
