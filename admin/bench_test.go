package admin

import (
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/rinhq/rin/journal"
)

// bigJournal writes n jobs as a week of steady work leaves them: almost all
// acked, a thousand pending, a hundred failed, over four targets.
func bigJournal(b *testing.B, n int) *journal.Journal {
	b.Helper()
	j, err := journal.Open(filepath.Join(b.TempDir(), "big.db"), journal.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { j.Close() })
	const per = 10000
	for start := 0; start < n; start += per {
		if err := j.Update(func(tx *journal.Tx) error {
			for i := start; i < min(start+per, n); i++ {
				s := journal.Acked
				switch {
				case i%100 == 0:
					s = journal.Received
				case i%1000 == 1:
					s = journal.Failed
				}
				jb := job(fmt.Sprintf("%032x", i), s, i%4, fmt.Sprintf("app/2025/06/01/%08d.json.gz", i))
				jb.EventTime, jb.CopiedAt, jb.Rows = time.Now(), time.Now(), 1000
				if err := tx.PutJobVia(jb); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	return j
}

// BenchmarkMetricsScrape measures one /metrics scrape on a 100k-job
// journal, through the registry and the HTTP handler as Prometheus sees
// it (Go and process collectors included): "warm" is the usual scrape
// (acked split cached), "cold" recounts the acked jobs by target as
// happens once per AckedRefresh.
func BenchmarkMetricsScrape(b *testing.B) {
	j := bigJournal(b, 100000)
	eng := newEngine(j)
	for _, tc := range []struct {
		name string
		ttl  time.Duration
	}{{"warm", time.Hour}, {"cold", time.Nanosecond}} {
		b.Run(tc.name, func(b *testing.B) {
			c := newJobCounter(j, tc.ttl)
			if _, err := c.counts(time.Now()); err != nil {
				b.Fatal(err)
			}
			h, err := metricsHandler(newCollector(c, eng, "bench", quiet()), quiet())
			if err != nil {
				b.Fatal(err)
			}
			req := httptest.NewRequest("GET", "/metrics", nil)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatalf("scrape: %d %s", w.Code, w.Body)
				}
			}
		})
	}
}

// BenchmarkStats is rin-journal stats on the same journal (every job read).
func BenchmarkStats(b *testing.B) {
	j := bigJournal(b, 100000)
	l := &Local{Journal: j}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := l.Stats(b.Context(), StatsOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
