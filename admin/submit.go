package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/journal"
)

// `rin backfill` hands the jobs of objects it listed to the rin that holds
// the journal (one process owns it), then follows them until they are
// loaded. Submit journals them through the running engine; Lookup says
// where each stands, and what holds it if an environment fault does.

// Submitter is what submit needs of a running engine. *fsm.Engine
// implements it; an Engine that does not (a test's stand-in) serves
// everything but submit.
type Submitter interface {
	Submit(ctx context.Context, jobs []journal.Job) (admitted, known int, err error)
}

// SubmitResult is what a submission did: jobs journaled anew, and jobs
// the journal already knew (pending, loaded or failed), left as they were.
type SubmitResult struct {
	Admitted int `json:"admitted"`
	Known    int `json:"known"`
}

// JobStatus is where a job stands, as a submitter follows it.
type JobStatus struct {
	ID        string        `json:"id"`
	State     journal.State `json:"state"`
	Target    string        `json:"target"`
	URI       string        `json:"uri"`
	Attempts  int           `json:"attempts"`
	LastError string        `json:"last_error,omitempty"`
	// Note says why a job ended superseded or removed.
	Note string `json:"note,omitempty"`
	// Held names the scope an environment fault holds the job behind, as
	// /healthz lists it ("table postgres://…/s.t"); empty when none.
	Held string `json:"held,omitempty"`
}

// Finished reports whether rin is done with the job: loaded, or parked.
func (s JobStatus) Finished() bool { return !s.State.Pending() }

// Submit journals jobs through the engine running on the journal, which
// loads them. Without one (offline) it refuses: jobs journaled behind a
// stopped rin's back would wait, unseen, for its next start.
func (l *Local) Submit(ctx context.Context, jobs []journal.Job) (SubmitResult, error) {
	s, ok := l.Engine.(Submitter)
	if !ok {
		return SubmitResult{}, fmt.Errorf("submit: %w: no engine runs on this journal", ErrBadRequest)
	}
	admitted, known, err := s.Submit(ctx, jobs)
	if err != nil {
		return SubmitResult{}, err
	}
	return SubmitResult{Admitted: admitted, Known: known}, nil
}

// Lookup returns the jobs among ids that the journal holds, in the order
// asked; unknown ids are left out. With an engine, a received job held by
// an environment fault names its scope in Held.
func (l *Local) Lookup(ctx context.Context, ids []string) ([]JobStatus, error) {
	var holds []fsm.Hold
	if h, ok := l.Engine.(interface{ Holds() []fsm.Hold }); ok {
		holds = h.Holds()
	}
	var out []JobStatus
	err := l.Journal.View(func(tx *journal.Tx) error {
		out = out[:0]
		for _, id := range ids {
			if err := ctx.Err(); err != nil {
				return err
			}
			j, err := tx.Job(id)
			if err != nil {
				continue // unknown (ErrNotFound) or unreadable: not known here
			}
			s := JobStatus{ID: j.ID, State: j.State, Target: j.Target, URI: j.URI(), Attempts: j.Attempts, LastError: j.LastError, Note: j.Note}
			if j.State == journal.Received {
				if on := fsm.HoldsOn(holds, j); len(on) > 0 {
					s.Held = on[0].Scope + " " + on[0].Name
				}
			}
			out = append(out, s)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("lookup: %w", err)
	}
	return out, nil
}

// Wire limits: a submission of submitChunk jobs stays far below
// submitMaxBody (a job is at most a few KB of JSON), and lookups go
// lookupChunk ids at a time.
const (
	submitChunk   = 500
	submitMaxBody = 16 << 20
	lookupChunk   = 5000
)

type submitRequest struct {
	Jobs []journal.Job `json:"jobs"`
}

type lookupRequest struct {
	IDs []string `json:"ids"`
}

type lookupResponse struct {
	Jobs []JobStatus `json:"jobs"`
}

func (h *handler) submit(w http.ResponseWriter, r *http.Request) {
	var req submitRequest
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, submitMaxBody))
	if err := dec.Decode(&req); err != nil {
		writeError(w, fmt.Errorf("%w: %w", ErrBadRequest, err))
		return
	}
	res, err := h.local.Submit(r.Context(), req.Jobs)
	if err != nil {
		writeError(w, err)
		return
	}
	h.log.Info("admin: jobs submitted", "jobs", len(req.Jobs), "admitted", res.Admitted, "known", res.Known)
	writeJSON(w, http.StatusOK, res)
}

func (h *handler) lookup(w http.ResponseWriter, r *http.Request) {
	var req lookupRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, err)
		return
	}
	if len(req.IDs) > lookupChunk {
		writeError(w, fmt.Errorf("%w: %d ids; at most %d per request", ErrBadRequest, len(req.IDs), lookupChunk))
		return
	}
	jobs, err := h.local.Lookup(r.Context(), req.IDs)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, lookupResponse{Jobs: nonNil(jobs)})
}

// Submit hands jobs to the running rin, submitChunk at a time. A chunk
// refused (a job the running rin's config does not route the same way:
// fsm.ErrNotRouted) stops it; the chunks before it are journaled.
func (c *Client) Submit(ctx context.Context, jobs []journal.Job) (SubmitResult, error) {
	var total SubmitResult
	for start := 0; start < len(jobs); start += submitChunk {
		var res SubmitResult
		if err := c.do(ctx, http.MethodPost, "/v1/submit", submitRequest{Jobs: jobs[start:min(start+submitChunk, len(jobs))]}, &res); err != nil {
			return total, err
		}
		total.Admitted += res.Admitted
		total.Known += res.Known
	}
	return total, nil
}

// Lookup asks the running rin where the jobs stand.
func (c *Client) Lookup(ctx context.Context, ids []string) ([]JobStatus, error) {
	var out []JobStatus
	for start := 0; start < len(ids); start += lookupChunk {
		var resp lookupResponse
		if err := c.do(ctx, http.MethodPost, "/v1/lookup", lookupRequest{IDs: ids[start:min(start+lookupChunk, len(ids))]}, &resp); err != nil {
			return nil, err
		}
		out = append(out, resp.Jobs...)
	}
	return out, nil
}

// Holds asks the running rin which scopes are held now.
func (c *Client) Holds(ctx context.Context) ([]fsm.Hold, error) {
	var h Health
	if err := c.do(ctx, http.MethodGet, "/healthz", nil, &h); err != nil {
		return nil, err
	}
	return h.Held, nil
}

// Holds lists the scopes the engine holds (none offline).
func (l *Local) Holds(context.Context) ([]fsm.Hold, error) {
	if h, ok := l.Engine.(interface{ Holds() []fsm.Hold }); ok {
		return h.Holds(), nil
	}
	return nil, nil
}
