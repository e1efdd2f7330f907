package redshiftsim

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

// The relay moves messages as raw frames (type byte, length, body) and
// decodes only the few it needs with pgproto3. This keeps every other
// message byte-identical and avoids depending on pgproto3 knowing every
// message a client or server may send.

// maxMessageLen bounds a single protocol message (PostgreSQL's own limit for
// most messages is 1 GB).
const maxMessageLen = 1 << 30

// readMsg reads one regular (typed) message, reusing buf when it is large
// enough.
func readMsg(r *bufio.Reader, buf []byte) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n < 4 || n > maxMessageLen {
		return 0, nil, fmt.Errorf("invalid message length %d for type %q", n, hdr[0])
	}
	size := int(n) - 4
	if cap(buf) < size {
		buf = make([]byte, size)
	}
	buf = buf[:size]
	if _, err := io.ReadFull(r, buf); err != nil {
		return 0, nil, err
	}
	return hdr[0], buf, nil
}

// readStartup reads one untyped startup-phase message and returns its body
// (starting with the protocol code).
func readStartup(r *bufio.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n < 8 || n > 10000 {
		return nil, fmt.Errorf("invalid startup message length %d", n)
	}
	body := make([]byte, n-4)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	return body, nil
}

func writeMsg(w *bufio.Writer, typ byte, body []byte) error {
	var hdr [5]byte
	hdr[0] = typ
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(body)+4))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(body)
	return err
}

// encoder is any pgproto3 message.
type encoder interface {
	Encode(dst []byte) ([]byte, error)
}

// writeEncoded writes a pgproto3 message (which encodes its own frame).
func writeEncoded(w *bufio.Writer, msgs ...encoder) error {
	var buf []byte
	for _, m := range msgs {
		var err error
		buf, err = m.Encode(buf)
		if err != nil {
			return err
		}
	}
	_, err := w.Write(buf)
	return err
}

// cstring returns the NUL-terminated string at the start of b.
func cstring(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
