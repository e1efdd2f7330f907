package config

import (
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"1s", time.Second, false},
		{"500ms", 500 * time.Millisecond, false},
		{"5m", 5 * time.Minute, false},
		{"1h30m", 90 * time.Minute, false},
		{"7d", 7 * 24 * time.Hour, false},
		{"1d12h", 36 * time.Hour, false},
		{"-1d", -24 * time.Hour, false},
		{"20", 20 * time.Second, false},
		{"0", 0, false},
		{"-5", -5 * time.Second, false},
		{" 3s ", 3 * time.Second, false},
		{"", 0, true},
		{"d", 0, true},
		{"1x", 0, true},
		{"1d-2h", 0, true},
		{"7 days", 0, true},
		{"99999999999d", 0, true},
		{"9999999999999999999", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err != nil) != tt.err || (err == nil && got.D() != tt.want) {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, err=%v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestDurationYAML(t *testing.T) {
	var v struct {
		A, B, C, D Duration
	}
	if err := yaml.Unmarshal([]byte("a: 20\nb: 7d\nc: 1m30s\nd: null\n"), &v); err != nil {
		t.Fatal(err)
	}
	if v.A.D() != 20*time.Second || v.B.D() != 7*24*time.Hour || v.C.D() != 90*time.Second || v.D != 0 {
		t.Errorf("%+v", v)
	}
	if err := yaml.Unmarshal([]byte("a: [1]\n"), &v); err == nil {
		t.Error("sequence accepted as a duration")
	}
	for d, want := range map[Duration]string{
		0: "0s", Duration(7 * 24 * time.Hour): "7d", Duration(36 * time.Hour): "1d12h0m0s",
		Duration(90 * time.Second): "1m30s", Duration(-48 * time.Hour): "-2d",
	} {
		if d.String() != want {
			t.Errorf("String(%d) = %s, want %s", d, d.String(), want)
		}
		back, err := ParseDuration(d.String())
		if err != nil || back != d {
			t.Errorf("round trip %s: %v %v", d, back, err)
		}
	}
}
