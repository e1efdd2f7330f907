package admin

import "errors"

// Sentinel errors. Requeue and dump also return journal.ErrNotFound and
// journal.ErrNotFailed; the client restores them from the wire, so
// errors.Is works the same live and offline.
var (
	// ErrBadRequest: the request itself is wrong (unknown state, no ids,
	// a negative age). Nothing was changed.
	ErrBadRequest = errors.New("bad request")
	// ErrNotRunning: no rin answers on the admin socket (it is missing or
	// stale). rin-journal then works on the file itself.
	ErrNotRunning = errors.New("rin is not running")
	// ErrSocketOwner: the socket belongs to another user. Talking to it
	// would trust (and send requeues to) whatever that user runs.
	ErrSocketOwner = errors.New("admin socket is owned by another user")
	// ErrNotSocket: something other than a socket sits at the socket path;
	// rin will not remove it.
	ErrNotSocket = errors.New("admin socket path exists and is not a socket")
	// ErrInUse: another live process already serves the socket path.
	ErrInUse = errors.New("admin socket is in use by another process")
	// ErrNotLoopback: admin.addr would be reachable from other hosts.
	ErrNotLoopback = errors.New("admin address is not a loopback address")
	// ErrReadOnly: a change was asked on the read-only TCP listener.
	ErrReadOnly = errors.New("this admin listener is read-only; use the unix socket")
)
