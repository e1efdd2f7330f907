package fsm

import "sort"

// Histogram counts observations into fixed buckets, the shape Prometheus
// histograms take. The engine fills it under its lock at the cost of one
// binary search; /metrics turns it into a histogram family without the
// engine knowing Prometheus.
type Histogram struct {
	// Bounds are the buckets' upper bounds, ascending. They are shared
	// between snapshots and never modified.
	Bounds []float64
	// Counts[i] counts observations in (Bounds[i-1], Bounds[i]]; the last
	// entry those above every bound. Not cumulative.
	Counts []uint64
	Sum    float64
	Count  uint64
}

func newHistogram(bounds []float64) Histogram {
	return Histogram{Bounds: bounds, Counts: make([]uint64, len(bounds)+1)}
}

func (h *Histogram) observe(v float64) {
	h.Counts[sort.SearchFloat64s(h.Bounds, v)]++
	h.Sum += v
	h.Count++
}

// clone copies the counts, so a snapshot does not change under its reader.
func (h Histogram) clone() Histogram {
	h.Counts = append([]uint64(nil), h.Counts...)
	return h
}

// Cumulative returns the count of observations at most each bound, as
// Prometheus wants them.
func (h Histogram) Cumulative() map[float64]uint64 {
	out := make(map[float64]uint64, len(h.Bounds))
	var n uint64
	for i, b := range h.Bounds {
		if i < len(h.Counts) {
			n += h.Counts[i]
		}
		out[b] = n
	}
	return out
}

// CopyBuckets are the bounds, in seconds, of Stats.CopyDuration: a COPY
// takes from tens of milliseconds (a few small objects) to minutes.
func CopyBuckets() []float64 {
	return []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}
}

// LatencyBuckets are the bounds, in seconds, of TargetStats.Latency: from
// an S3 event to the COMMIT that loaded its object, a second or two when
// rin keeps up (batch.max_age plus a COPY), minutes behind a backlog,
// hours or days behind a held scope.
func LatencyBuckets() []float64 {
	return []float64{1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600}
}
