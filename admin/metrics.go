package admin

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricsHandler serves /metrics from a registry of its own: rin's
// collector, and the Go runtime and process collectors that the usual
// dashboards and alerts expect (go_goroutines, process_resident_memory_bytes,
// ...). Each admin server has its own registry, not the library's global
// one, so two servers in one process (tests, Lambda) never collide and
// nothing registers behind rin's back.
//
// A scrape that cannot read the journal fails with HTTP 500, as before the
// client library was used: a scraper then records the target as down
// rather than a partial picture.
func metricsHandler(c prometheus.Collector, log *slog.Logger) (http.Handler, error) {
	reg := prometheus.NewRegistry()
	for _, col := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		c,
	} {
		if err := reg.Register(col); err != nil {
			return nil, fmt.Errorf("admin: metrics: %w", err)
		}
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.HTTPErrorOnError,
	}), nil
}
