package fsm

import (
	"sort"
	"time"
)

// An environment fault holds the scope it names, never the objects: the
// endpoint, one table of it, the credentials it uses, or one bucket it
// reads. Each held scope has a breaker; a destination's batches start only
// while every breaker on its path is closed, or as the one probe of the
// first open one. Other destinations keep loading meanwhile.

// holdKey names one held scope.
type holdKey struct {
	scope Scope
	name  string
}

// holdKeyOf is the key a fault of scope s holds for a batch bound for d.
// Statement faults are counted per table.
func holdKeyOf(s Scope, d Destination) holdKey {
	switch s {
	case ScopeTable, ScopeStatement:
		return holdKey{ScopeTable, d.Endpoint + "/" + d.Schema + "." + d.Table}
	case ScopeCredentials:
		return holdKey{ScopeCredentials, d.Endpoint}
	case ScopeBucket:
		return holdKey{ScopeBucket, d.Endpoint + "/" + d.Bucket}
	default:
		return holdKey{ScopeEndpoint, d.Endpoint}
	}
}

// gateScopes are the held scopes on a destination's path, in the order
// Redshift checks them (see Scope).
var gateScopes = [...]Scope{ScopeEndpoint, ScopeTable, ScopeCredentials, ScopeBucket}

// holds is the engine's set of breakers and statement retry counts. Callers
// hold e.mu.
type holds struct {
	retry    RetryOptions
	breakers map[holdKey]*breaker
	retries  map[holdKey]int // consecutive statement faults per table
}

func newHolds(r RetryOptions) holds {
	return holds{retry: r, breakers: map[holdKey]*breaker{}, retries: map[holdKey]int{}}
}

func (h *holds) get(k holdKey) *breaker {
	b := h.breakers[k]
	if b == nil {
		b = newBreaker(h.retry)
		h.breakers[k] = b
	}
	return b
}

// gate says whether a batch for d may start now. probe is the key the batch
// must probe (it then carries one job), nil for a normal batch. When the
// batch may not start, until is when to look again (zero while a probe is
// in flight: its end wakes the planner).
func (h *holds) gate(d Destination, now time.Time) (ok bool, probe *holdKey, until time.Time) {
	if len(h.breakers) == 0 {
		return true, nil, time.Time{} // nothing held: the usual case, no key built
	}
	var first *breaker
	for _, s := range gateScopes {
		k := holdKeyOf(s, d)
		b := h.breakers[k]
		if b == nil || !b.open {
			continue
		}
		if allowed, _ := b.allow(now); !allowed {
			if b.probing {
				return false, nil, time.Time{}
			}
			return false, nil, b.probeAt
		}
		if first == nil {
			first, probe = b, &k
		}
	}
	if first != nil {
		first.probing = true
	}
	return true, probe, time.Time{}
}

// passed closes d's breakers for the scopes Redshift checks before s: a
// COPY that failed at s got past them. It returns the keys it closed.
func (h *holds) passed(d Destination, s Scope) []holdKey {
	var closed []holdKey
	for _, g := range gateScopes {
		if g >= s {
			break
		}
		k := holdKeyOf(g, d)
		if b := h.breakers[k]; b != nil && b.open {
			// Healed: dropped, so that only held scopes are in the map
			// and gate need not build keys while nothing is held.
			delete(h.breakers, k)
			closed = append(closed, k)
		}
	}
	return closed
}

// succeeded closes every breaker on d's path and clears its retries.
func (h *holds) succeeded(d Destination) []holdKey {
	delete(h.retries, holdKeyOf(ScopeTable, d))
	return h.passed(d, ScopeObject)
}

// failed records an environment fault of scope s for a batch bound for d
// that probed probe (nil when it was no probe). Only the probe of an open
// breaker, or the fault that opens it, moves its backoff on: the batches
// that were in flight when a fault began fail too, and must not make the
// wait grow several steps at once. It returns the key held, the wait until
// its next probe and whether this fault opened it.
func (h *holds) failed(d Destination, s Scope, probe *holdKey, err error, now time.Time) (holdKey, time.Duration, bool) {
	h.passed(d, s)
	k := holdKeyOf(s, d)
	if probe != nil && *probe != k {
		// The probe met an earlier stage's fault: its own scope stays held
		// until that one heals.
		if pb := h.breakers[*probe]; pb != nil {
			pb.probing = false
		}
	}
	b := h.get(k)
	if b.open && (probe == nil || *probe != k) {
		b.lastErr = err.Error()
		return k, b.probeAt.Sub(now), false
	}
	opened := !b.open
	return k, b.failure(now, err), opened
}

// statementRetry counts a statement fault of d's table and returns how long
// its jobs wait: the backoff grows with consecutive faults of that table
// only, so a conflict on one table never slows another.
func (h *holds) statementRetry(d Destination) time.Duration {
	k := holdKeyOf(ScopeStatement, d)
	h.retries[k]++
	return retryBackoff(h.retry, h.retries[k])
}

// held reports whether k is held now.
func (h *holds) held(k holdKey) bool {
	b := h.breakers[k]
	return b != nil && b.open
}

// Hold is one held scope, as operators see it.
type Hold struct {
	Scope     string    `json:"scope"`
	Name      string    `json:"name"` // endpoint, endpoint/schema.table or endpoint/bucket
	Since     time.Time `json:"since"`
	Failures  int       `json:"failures"`
	NextProbe time.Time `json:"next_probe"`
	LastError string    `json:"last_error"`
}

func (h *holds) list() []Hold {
	var out []Hold
	for k, b := range h.breakers {
		if !b.open {
			continue
		}
		out = append(out, Hold{Scope: k.scope.String(), Name: k.name, Since: b.since, Failures: b.fails, NextProbe: b.probeAt, LastError: b.lastErr})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Scope != out[j].Scope {
			return out[i].Scope < out[j].Scope
		}
		return out[i].Name < out[j].Name
	})
	return out
}
