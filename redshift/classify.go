package redshift

import (
	"context"
	"errors"
	"strings"

	"github.com/lib/pq"
	"github.com/rinhq/rin/fsm"
)

// classify marks err for the engine: permanent errors of the destination
// (missing table, no privilege, bad SQL), permanent errors of an object (bad
// data, object gone), and everything else transient (connection trouble,
// cluster read-only during a resize, serialization failures, Redshift's
// internal errors), which the engine retries behind the endpoint's breaker.
func classify(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var pe *pq.Error
	if !errors.As(err, &pe) {
		return err // network and driver errors: transient
	}
	code := string(pe.Code)
	msg := strings.ToLower(pe.Message)
	switch {
	case code == "25006", // read-only transaction: cluster resize
		code == "40001", code == "40P01", code == "55P03", code == "57014",
		strings.HasPrefix(code, "08"), strings.HasPrefix(code, "53"), strings.HasPrefix(code, "57P"):
		return err
	case strings.HasPrefix(code, "22"), strings.HasPrefix(code, "23"):
		return fsm.BadObject(err)
	case code == "XX000" && containsAny(msg, "load into table", "stl_load_errors", "invalid", "does not exist",
		"manifest", "not found", "delimiter", "parse", "malformed", "decompress", "gzip", "zstd", "bzip2"):
		return fsm.BadObject(err)
	case code == "XX000" && strings.Contains(msg, "access denied"):
		return fsm.Permanent(err)
	case code == "XX000":
		return err
	case strings.HasPrefix(code, "42"), strings.HasPrefix(code, "3F"):
		return fsm.Permanent(err)
	default:
		return err
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
