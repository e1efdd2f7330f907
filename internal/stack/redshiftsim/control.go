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
//	POST /faults/fail-copies-into?table=public.events&n=3&sqlstate=XX000&message=...
//	POST /faults/serialization-conflicts?table=public.events&n=1
//	POST /faults/deny-s3?bucket=b&prefix=p      (prefix optional: the whole bucket)
//	POST /faults/allow-s3?bucket=b&prefix=p     (removes that deny rule)
//	POST /faults/cluster-region?region=eu-west-1
//	POST /faults/bucket-region?bucket=b&region=eu-west-1   (empty region: the cluster's)
//	POST /faults/expire-token?token=...
//	POST /faults/invalid-access-key?key=AKIA...
//	POST /faults/read-only?on=1
//	POST /faults/latency?d=200ms
//	POST /faults/drop-commits?n=1
//	POST /faults/serializable?on=1                         (serializable mode, serial.go)
//	POST /faults/reset
//	GET  /faults
//	GET  /stats
//
// Parameters may be in the query string or a form body. Fault endpoints
// answer with the resulting fault state as JSON.
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
	mux.HandleFunc("POST /faults/fail-copies-into", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.FormValue("n"))
		if err != nil || r.FormValue("table") == "" {
			http.Error(w, "table is required and n must be an integer", http.StatusBadRequest)
			return
		}
		s.FailNextCopiesInto(r.FormValue("table"), n, r.FormValue("sqlstate"), r.FormValue("message"))
		writeJSON(w, s.Faults())
	})
	mux.HandleFunc("POST /faults/serialization-conflicts", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.FormValue("n"))
		if err != nil || r.FormValue("table") == "" {
			http.Error(w, "table is required and n must be an integer", http.StatusBadRequest)
			return
		}
		s.SerializationConflictsInto(r.FormValue("table"), n)
		writeJSON(w, s.Faults())
	})
	s3Rule := func(set func(bucket, prefix string)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.FormValue("bucket") == "" {
				http.Error(w, "bucket is required", http.StatusBadRequest)
				return
			}
			set(r.FormValue("bucket"), r.FormValue("prefix"))
			writeJSON(w, s.Faults())
		}
	}
	mux.HandleFunc("POST /faults/deny-s3", s3Rule(s.DenyS3))
	mux.HandleFunc("POST /faults/allow-s3", s3Rule(s.AllowS3))
	mux.HandleFunc("POST /faults/bucket-region", func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("bucket") == "" {
			http.Error(w, "bucket is required", http.StatusBadRequest)
			return
		}
		s.SetBucketRegion(r.FormValue("bucket"), r.FormValue("region"))
		writeJSON(w, s.Faults())
	})
	mux.HandleFunc("POST /faults/cluster-region", func(w http.ResponseWriter, r *http.Request) {
		s.SetClusterRegion(r.FormValue("region"))
		writeJSON(w, s.Faults())
	})
	required := func(param string, set func(string)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			v := r.FormValue(param)
			if v == "" {
				http.Error(w, param+" is required", http.StatusBadRequest)
				return
			}
			set(v)
			writeJSON(w, s.Faults())
		}
	}
	mux.HandleFunc("POST /faults/expire-token", required("token", s.ExpireToken))
	mux.HandleFunc("POST /faults/invalid-access-key", required("key", s.InvalidAccessKey))
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
	mux.HandleFunc("POST /faults/serializable", func(w http.ResponseWriter, r *http.Request) {
		on, err := strconv.ParseBool(r.FormValue("on"))
		if err != nil {
			http.Error(w, "on must be a boolean", http.StatusBadRequest)
			return
		}
		s.SetSerializable(on)
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
