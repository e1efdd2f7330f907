package sqsx

import "testing"

func TestCompareSequencers(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"0055AED6DCD90281E5", "0055AED6DCD90281E6", -1},
		{"0055AED6DCD90281E6", "0055AED6DCD90281E5", 1},
		{"0055AED6DCD90281E5", "0055aed6dcd90281e5", 0},
		{"55AED6DCD90281E5", "0055AED6DCD90281E5", 0}, // left-padded
		{"FF", "0100", -1}, // shorter is not larger by length alone
		{"0100", "FF", 1},
		{"", "00", 0},
		{"", "01", -1},
	} {
		if got := CompareSequencers(c.a, c.b); got != c.want {
			t.Errorf("CompareSequencers(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
