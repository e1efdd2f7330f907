package fsm

import (
	"errors"
	"fmt"
)

// ErrPermanent marks a Copier error that retrying will not fix (missing
// table, bad data, syntax error, object gone). The job is retried at most
// Retry.MaxAttempts times, then parked as failed. Every other error is taken
// as transient (connection refused, cluster read-only during a resize,
// serialization failure): the job waits behind the endpoint's breaker and is
// tried again, for as long as Retry.MaxElapsed allows.
var ErrPermanent = errors.New("permanent error")

// Permanent wraps err as permanent.
func Permanent(err error) error {
	if err == nil || errors.Is(err, ErrPermanent) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrPermanent, err)
}

// IsPermanent reports whether err is marked permanent.
func IsPermanent(err error) bool { return errors.Is(err, ErrPermanent) }

// ErrBadObject marks a permanent error caused by one object of a batch (bad
// data, object gone), as opposed to one of the destination (missing table).
// A batch failing with it is split to isolate the object, so the good ones
// load and only the bad one is parked.
var ErrBadObject = errors.New("bad object")

// BadObject wraps err as caused by an object (and so permanent).
func BadObject(err error) error {
	if err == nil || errors.Is(err, ErrBadObject) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrBadObject, Permanent(err))
}
