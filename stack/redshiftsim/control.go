package redshiftsim

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// ControlHandler exposes the fault injection and the counters over HTTP so
// that a process that does not host the simulator (a demo, a benchmark
// driver) can still steer it:
//
//	POST /faults/fail-copies?n=3&sqlstate=XX000&message=...
//	POST /faults/read-only?on=1
//	POST /faults/latency?d=200ms
//	POST /faults/drop-commits?n=1
//	POST /faults/reset
//	GET  /faults
//	GET  /stats
//
// Fault endpoints answer with the resulting fault state as JSON.
func (s *Server) ControlHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /faults/fail-copies", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.FormValue("n"))
		if err != nil {
			http.Error(w, "n must be an integer", http.StatusBadRequest)
			return
		}
		s.FailNextCopies(n, r.FormValue("sqlstate"), r.FormValue("message"))
		writeJSON(w, s.Faults())
	})
	mux.HandleFunc("POST /faults/read-only", func(w http.ResponseWriter, r *http.Request) {
		on, err := strconv.ParseBool(r.FormValue("on"))
		if err != nil {
			http.Error(w, "on must be a boolean", http.StatusBadRequest)
			return
		}
		s.SetReadOnly(on)
		writeJSON(w, s.Faults())
	})
	mux.HandleFunc("POST /faults/latency", func(w http.ResponseWriter, r *http.Request) {
		d, err := time.ParseDuration(r.FormValue("d"))
		if err != nil {
			http.Error(w, "d must be a duration like 200ms", http.StatusBadRequest)
			return
		}
		s.SetCopyLatency(d)
		writeJSON(w, s.Faults())
	})
	mux.HandleFunc("POST /faults/drop-commits", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.FormValue("n"))
		if err != nil {
			http.Error(w, "n must be an integer", http.StatusBadRequest)
			return
		}
		s.DropAfterNextCommits(n)
		writeJSON(w, s.Faults())
	})
	mux.HandleFunc("POST /faults/reset", func(w http.ResponseWriter, r *http.Request) {
		s.ResetFaults()
		writeJSON(w, s.Faults())
	})
	mux.HandleFunc("GET /faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, s.Faults())
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, s.Stats())
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
