package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"

	"github.com/rinhq/rin/internal/stack"
	"github.com/rinhq/rin/internal/stack/dataapi"
	"github.com/rinhq/rin/internal/stack/redshiftsim"
)

// extras serves the control endpoints that act on the whole stack rather
// than on its simulator, for a process that drives the stack from outside
// (rin's own module tests, through internal/stackproc):
//
//	POST /stack/bucket-region?bucket=b&region=r  S3 and the simulator place b in r (empty: the cluster's)
//	POST /stack/simulator?password=p             one more simulator on the same database and S3,
//	                                             demanding p; answers {"addr": "host:port"}
//	POST /stack/dataapi                          a Redshift Data API server on the simulator;
//	                                             answers {"endpoint": "http://..."}
//
// What the last two start runs until the stack stops.
type extras struct {
	s   *stack.Stack
	log *slog.Logger

	mu      sync.Mutex
	closers []func() error
}

func (x *extras) register(mux *http.ServeMux) {
	mux.HandleFunc("POST /stack/bucket-region", func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("bucket") == "" {
			http.Error(w, "bucket is required", http.StatusBadRequest)
			return
		}
		x.s.SetBucketRegion(r.FormValue("bucket"), r.FormValue("region"))
		writeJSON(w, map[string]string{})
	})
	mux.HandleFunc("POST /stack/simulator", func(w http.ResponseWriter, r *http.Request) {
		sim, err := redshiftsim.Start(context.WithoutCancel(r.Context()), redshiftsim.Config{
			Backend: x.s.BackendDSN(), S3: x.s.S3().Client(), Password: r.FormValue("password"),
			Logger: x.log,
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		x.keep(sim.Close)
		writeJSON(w, map[string]string{"addr": sim.Addr()})
	})
	mux.HandleFunc("POST /stack/dataapi", func(w http.ResponseWriter, r *http.Request) {
		srv, err := dataapi.Start(dataapi.Config{Backend: x.s.RedshiftDSN(), Logger: x.log})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		x.keep(srv.Close)
		writeJSON(w, map[string]string{"endpoint": srv.Endpoint()})
	})
}

func (x *extras) keep(close func() error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.closers = append(x.closers, close)
}

// Close stops everything the endpoints started.
func (x *extras) Close() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	var err error
	for _, c := range x.closers {
		err = errors.Join(err, c())
	}
	x.closers = nil
	return err
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
