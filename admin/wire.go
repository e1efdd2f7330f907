package admin

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/journal"
)

// wireError is an error as the HTTP API sends it. Code names the sentinel
// so the client can restore it: errors.Is must work the same live and
// offline, or rin-journal could not tell "no such job" from a broken rin.
type wireError struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// codes maps sentinels to wire codes and HTTP statuses.
var codes = []struct {
	err    error
	code   string
	status int
}{
	{ErrBadRequest, "bad_request", http.StatusBadRequest},
	{journal.ErrNotFound, "not_found", http.StatusNotFound},
	{journal.ErrNotFailed, "not_failed", http.StatusConflict},
	{ErrReadOnly, "read_only", http.StatusForbidden},
	{fsm.ErrNotRouted, "not_routed", http.StatusUnprocessableEntity},
	{journal.ErrCorrupt, "corrupt", http.StatusInternalServerError},
}

func writeError(w http.ResponseWriter, err error) {
	code, status := "internal", http.StatusInternalServerError
	for _, c := range codes {
		if errors.Is(err, c.err) {
			code, status = c.code, c.status
			break
		}
	}
	writeJSON(w, status, wireError{Error: err.Error(), Code: code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// remoteError is an error received from rin: its text as rin wrote it,
// wrapping the sentinel its code names.
type remoteError struct {
	msg      string
	sentinel error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.sentinel }

func decodeError(we wireError, status int) error {
	for _, c := range codes {
		if c.code == we.Code {
			return &remoteError{msg: we.Error, sentinel: c.err}
		}
	}
	if we.Error == "" {
		we.Error = http.StatusText(status)
	}
	return &remoteError{msg: "rin: " + we.Error}
}
