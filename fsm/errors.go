package fsm

import (
	"errors"
	"fmt"
)

// Scope is what a failed COPY says is wrong, and so what the engine holds.
//
// Most COPY failures are not about the objects being loaded: a role that
// may not read a bucket, a missing table, an expired token or a cluster
// being resized fail every object alike, and heal when a person (or time)
// fixes them. Taking those for bad objects would bisect every batch down to
// single objects and park them all as failed. So each error names its
// scope, and only ScopeObject ever marks an object.
//
// The scopes are listed in the order Redshift checks them when it runs a
// COPY: it connects (endpoint), resolves the table and the user's privilege
// on it (table), assumes the role or takes the keys (credentials), reads
// the manifest and the files (bucket), then converts rows (object). A COPY
// that fails at one stage has passed every earlier one, which is how a probe
// learns that a held scope has healed.
type Scope uint8

const (
	// ScopeEndpoint: the Redshift endpoint cannot run anything right now
	// (connection refused or reset, cluster read-only during a resize, login
	// refused, out of resources). Unclassified errors land here too.
	ScopeEndpoint Scope = iota + 1
	// ScopeTable: one table cannot take loads (missing table or schema, no
	// privilege on it, COPY options it refuses).
	ScopeTable
	// ScopeCredentials: the COPY's credentials are refused (expired token,
	// unknown key, role the cluster may not assume). They are refreshed
	// before the next attempt.
	ScopeCredentials
	// ScopeBucket: the objects' bucket cannot be read (access denied, KMS,
	// bucket in another region).
	ScopeBucket
	// ScopeStatement: this attempt failed for a reason that retrying the
	// same statement fixes (serialization conflict, statement timeout,
	// throttling). Only the failed batch's jobs wait, briefly.
	ScopeStatement
	// ScopeObject: one object of the batch cannot be loaded (bad rows, a
	// data file gone). The batch is split to find it; only it is parked.
	ScopeObject
)

// String names the scope as logs, metrics and rin-journal show it.
func (s Scope) String() string {
	switch s {
	case ScopeEndpoint:
		return "endpoint"
	case ScopeTable:
		return "table"
	case ScopeCredentials:
		return "credentials"
	case ScopeBucket:
		return "bucket"
	case ScopeStatement:
		return "statement"
	case ScopeObject:
		return "object"
	}
	return fmt.Sprintf("scope(%d)", uint8(s))
}

// Held reports whether a fault of this scope holds its scope behind a
// breaker (rather than retrying the statement or isolating an object).
func (s Scope) Held() bool { return s >= ScopeEndpoint && s <= ScopeBucket }

// Fault is a Copier error with its scope.
type Fault struct {
	Scope Scope
	Err   error
}

func (f *Fault) Error() string { return f.Err.Error() }
func (f *Fault) Unwrap() error { return f.Err }

// Is makes errors.Is(err, ErrBadObject) hold for object faults.
func (f *Fault) Is(target error) bool { return target == ErrBadObject && f.Scope == ScopeObject }

// WithScope marks err as a fault of scope s. A nil err stays nil; an err
// already marked keeps its scope (the innermost classification knows most).
func WithScope(s Scope, err error) error {
	var f *Fault
	if err == nil || errors.As(err, &f) {
		return err
	}
	return &Fault{Scope: s, Err: err}
}

// Rescope marks err as a fault of scope s whatever an inner classification
// said, for a caller that knows better: a failed ledger statement is the
// endpoint's whatever its error text names.
func Rescope(s Scope, err error) error {
	if err == nil {
		return nil
	}
	return &Fault{Scope: s, Err: err}
}

// ScopeOf returns the scope err was marked with. An unmarked error is
// taken as the endpoint's: a network or driver failure.
func ScopeOf(err error) Scope {
	var f *Fault
	if errors.As(err, &f) {
		return f.Scope
	}
	return ScopeEndpoint
}

// ErrBadObject matches object faults with errors.Is.
var ErrBadObject = errors.New("bad object")

// ErrObjectGone marks an object fault that is the object's absence: S3 no
// longer has it (NoSuchKey), so its job ends removed rather than failed.
var ErrObjectGone = errors.New("object no longer exists")

// BadObject marks err as caused by one object of the batch.
func BadObject(err error) error { return WithScope(ScopeObject, err) }
