package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a time.Duration read from YAML as Go syntax ("1m30s"), with a
// "d" suffix for days ("7d", "1d12h"), or as a plain integer number of
// seconds (20). Days matter because retention windows are naturally stated
// in days and time.ParseDuration has no unit for them.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats whole days with "d" so that values round-trip through
// -dry-run output ("7d", not "168h0m0s").
func (d Duration) String() string {
	v := time.Duration(d)
	if v == 0 {
		return "0s"
	}
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	const day = 24 * time.Hour
	days, rest := v/day, v%day
	switch {
	case days == 0:
		return sign + rest.String()
	case rest == 0:
		return fmt.Sprintf("%s%dd", sign, days)
	default:
		return fmt.Sprintf("%s%dd%s", sign, days, rest)
	}
}

// ParseDuration parses the syntax described on Duration.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > int64(maxDuration/time.Second) || n < -int64(maxDuration/time.Second) {
			return 0, fmt.Errorf("duration %q out of range", s)
		}
		return Duration(time.Duration(n) * time.Second), nil
	}
	body, neg := s, false
	if body[0] == '-' || body[0] == '+' {
		neg, body = body[0] == '-', body[1:]
	}
	var total time.Duration
	if i := strings.IndexByte(body, 'd'); i > 0 && isDigits(body[:i]) {
		days, err := strconv.ParseInt(body[:i], 10, 64)
		if err != nil || days > int64(maxDuration/(24*time.Hour)) {
			return 0, fmt.Errorf("duration %q out of range", s)
		}
		total = time.Duration(days) * 24 * time.Hour
		body = body[i+1:]
	}
	if body != "" {
		rest, err := time.ParseDuration(body)
		if err != nil || rest < 0 || (body[0] == '-' || body[0] == '+') {
			return 0, fmt.Errorf("invalid duration %q (use e.g. 500ms, 20s, 5m, 1h30m, 7d, or an integer number of seconds)", s)
		}
		if total > maxDuration-rest {
			return 0, fmt.Errorf("duration %q out of range", s)
		}
		total += rest
	}
	if neg {
		total = -total
	}
	return Duration(total), nil
}

const maxDuration = time.Duration(1<<63 - 1)

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// UnmarshalYAML accepts a scalar. Errors are returned as *yaml.TypeError
// carrying the line, so they are reported like every other type error.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: expected a duration such as 20s, 5m or 7d", n.Line)}}
	}
	if n.Tag == "!!null" {
		*d = 0
		return nil
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	*d = v
	return nil
}

// MarshalYAML writes the String form.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }
