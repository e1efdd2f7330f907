package admin

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/rinhq/rin/fsm"
)

// rin_guard_wait_seconds is a histogram over GuardBuckets, present (all
// zero) before the first load.
func TestGuardWaitHistogram(t *testing.T) {
	d := prometheus.NewDesc("rin_guard_wait_seconds", guardWaitHelp, nil, nil)
	var m dto.Metric
	if err := guardWaitHistogram(d, fsm.GuardStats{}).Write(&m); err != nil {
		t.Fatal(err)
	}
	if h := m.GetHistogram(); h.GetSampleCount() != 0 || len(h.GetBucket()) != len(fsm.GuardBuckets()) {
		t.Fatalf("empty histogram %v", h)
	}
	b := fsm.GuardBuckets()
	g := fsm.GuardStats{Wait: fsm.Histogram{Bounds: b, Counts: make([]uint64, len(b)+1), Sum: 3.5, Count: 2}}
	g.Wait.Counts[0], g.Wait.Counts[6] = 1, 1 // 0s and 3.5s
	if err := guardWaitHistogram(d, g).Write(&m); err != nil {
		t.Fatal(err)
	}
	h := m.GetHistogram()
	if h.GetSampleCount() != 2 || h.GetSampleSum() != 3.5 || h.GetBucket()[0].GetCumulativeCount() != 1 || h.GetBucket()[len(b)-1].GetCumulativeCount() != 2 {
		t.Fatalf("histogram %v", h)
	}
}
