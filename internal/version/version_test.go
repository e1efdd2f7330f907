package version

import (
	"regexp"
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	rev := []debug.BuildSetting{{Key: "vcs.revision", Value: "abc1234def5678"}, {Key: "vcs.modified", Value: "false"}}
	dirty := []debug.BuildSetting{{Key: "vcs.revision", Value: "abc1234def5678"}, {Key: "vcs.modified", Value: "true"}}
	tests := []struct {
		name    string
		stamped string
		bi      *debug.BuildInfo
		want    string
	}{
		{"stamped", "v1.2.0", &debug.BuildInfo{GoVersion: "go1.26.8", Settings: rev}, "rin v1.2.0 (abc1234, go1.26.8)"},
		{"dirty", "v1.2.0", &debug.BuildInfo{GoVersion: "go1.26.8", Settings: dirty}, "rin v1.2.0 (abc1234+dirty, go1.26.8)"},
		{"ldflags win over the module", "v1.2.0", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.1.0"}}, "rin v1.2.0 (unknown, go1.26.8)"},
		{"go install of a tag", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"}}, "rin v1.2.0 (unknown, go1.26.8)"},
		{"dev default", Unset, &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"}}, "rin v1.2.0 (unknown, go1.26.8)"},
		{"checkout build", Unset, &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261125210044-fac4ca652ea8+dirty"}, Settings: dirty}, "rin dev (abc1234+dirty, go1.26.8)"},
		{"checkout build after a tag", Unset, &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.1-0.20261125210044-fac4ca652ea8"}, Settings: rev}, "rin dev (abc1234, go1.26.8)"},
		{"prerelease tag", Unset, &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.3.0-rc.1"}}, "rin v1.3.0-rc.1 (unknown, go1.26.8)"},
		{"go run", Unset, &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: rev}, "rin dev (abc1234, go1.26.8)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FromBuildInfo("rin", tt.stamped, tt.bi).String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNoBuildInfo(t *testing.T) {
	got := FromBuildInfo("rin-journal", "", nil).String()
	if !regexp.MustCompile(`^rin-journal dev \(unknown, go[0-9][^)]*\)$`).MatchString(got) {
		t.Errorf("got %q", got)
	}
}

func TestGet(t *testing.T) {
	got := Get("rin", "v9.9.9").String()
	if !regexp.MustCompile(`^rin v9\.9\.9 \((?:[0-9a-f]{7}(?:\+dirty)?|unknown), go[0-9][^)]*\)$`).MatchString(got) {
		t.Errorf("got %q", got)
	}
}
