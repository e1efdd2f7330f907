package lambdamode

import (
	"testing"
	"time"
)

func TestPlanStop(t *testing.T) {
	now := time.Unix(1000, 0)
	for _, tc := range []struct {
		name          string
		left, margin  time.Duration
		stop, grace   time.Duration // stop: after now
		noDeadlineSet bool
	}{
		{name: "15 minutes", left: 15 * time.Minute, stop: 14 * time.Minute, grace: 55 * time.Second},
		{name: "5 minutes", left: 5 * time.Minute, stop: 4 * time.Minute, grace: 55 * time.Second},
		{name: "1 minute", left: time.Minute, stop: 48 * time.Second, grace: 9 * time.Second},
		{name: "10 seconds", left: 10 * time.Second, stop: 8 * time.Second, grace: 1500 * time.Millisecond},
		{name: "3 seconds", left: 3 * time.Second, stop: 2 * time.Second, grace: 750 * time.Millisecond},
		{name: "1 second", left: time.Second, stop: 500 * time.Millisecond, grace: 375 * time.Millisecond},
		{name: "set margin", left: time.Minute, margin: 20 * time.Second, stop: 40 * time.Second, grace: 15 * time.Second},
		{name: "set margin above half", left: 10 * time.Second, margin: 30 * time.Second, stop: 5 * time.Second, grace: 3750 * time.Millisecond},
		{name: "past", left: -time.Second, stop: -time.Second, grace: time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := planStop(now, now.Add(tc.left), true, tc.margin)
			if got := p.stopAt.Sub(now); got != tc.stop {
				t.Errorf("stop after %s, want %s", got, tc.stop)
			}
			if p.grace != tc.grace {
				t.Errorf("grace %s, want %s", p.grace, tc.grace)
			}
			if !p.stopAt.Add(p.grace).Before(now.Add(tc.left)) && tc.left > 0 {
				t.Errorf("grace runs past the deadline")
			}
		})
	}
	if p := planStop(now, time.Time{}, false, 0); !p.stopAt.IsZero() || p.grace != 0 {
		t.Errorf("no deadline: %+v, want the zero plan", p)
	}
}
