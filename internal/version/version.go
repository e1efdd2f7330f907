// Package version describes the running build the same way for every rin
// command: "NAME VERSION (COMMIT, GO_VERSION)", e.g.
// "rin v1.2.0 (abc1234, go1.26.8)".
//
// The version is what the release build stamps with -ldflags
// "-X main.Version=..." (each command keeps its own main.Version, because
// -X can only set a variable of the package being linked as main without
// naming it); when it is unset, the module version the go command recorded
// stands in, so `go install github.com/rinhq/rin@v1.2.0` reports v1.2.0.
// The commit comes from the VCS stamp the go command adds to builds from a
// checkout (runtime/debug.ReadBuildInfo), so no release tool is needed to
// know what was built.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Unset is the version of a build that was not stamped with -ldflags.
const Unset = "dev"

// Info describes one build.
type Info struct {
	Name      string // the command, e.g. "rin"
	Version   string // e.g. "v1.2.0", or Unset
	Commit    string // short VCS revision, "+dirty" when modified; "unknown" when not recorded
	GoVersion string // e.g. "go1.26.8"
}

// Get describes the running binary. stamped is the command's main.Version
// (set with -ldflags); "" or Unset means not stamped.
func Get(name, stamped string) Info {
	bi, _ := debug.ReadBuildInfo() // nil in binaries built without module support
	return FromBuildInfo(name, stamped, bi)
}

// FromBuildInfo is Get for given build information (nil when there is none).
func FromBuildInfo(name, stamped string, bi *debug.BuildInfo) Info {
	info := Info{Name: name, Version: stamped, Commit: "unknown", GoVersion: runtime.Version()}
	if bi == nil {
		if info.Version == "" {
			info.Version = Unset
		}
		return info
	}
	if bi.GoVersion != "" {
		info.GoVersion = bi.GoVersion
	}
	if info.Version == "" || info.Version == Unset {
		info.Version = Unset
		// "(devel)" is what the go command records when it knows no
		// version (go run, tests). A build from a checkout records its
		// tag, or a pseudo-version that only repeats the commit.
		if v := bi.Main.Version; v != "" && v != "(devel)" && !pseudo(v) {
			info.Version = v
		}
	}
	var revision string
	var modified bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if revision != "" {
		info.Commit = short(revision)
		if modified {
			info.Commit += "+dirty"
		}
	}
	return info
}

// String is the -version line: "rin v1.2.0 (abc1234, go1.26.8)".
func (i Info) String() string {
	return fmt.Sprintf("%s %s (%s, %s)", i.Name, i.Version, i.Commit, i.GoVersion)
}

// pseudo reports whether v is a Go pseudo-version, such as
// v0.0.0-20261125210044-fac4ca652ea8+dirty: its last dash-separated part is
// a 12-digit hex revision and the one before ends with a 14-digit time.
func pseudo(v string) bool {
	v, _, _ = strings.Cut(v, "+")
	parts := strings.Split(v, "-")
	if len(parts) < 3 {
		return false
	}
	rev, ts := parts[len(parts)-1], parts[len(parts)-2]
	return len(rev) == 12 && strings.Trim(rev, "0123456789abcdef") == "" &&
		len(ts) >= 14 && strings.Trim(ts[len(ts)-14:], "0123456789") == ""
}

// short cuts a revision to the 7 characters git shows.
func short(rev string) string {
	if len(rev) > 7 {
		return rev[:7]
	}
	return rev
}
