package redshiftsim

import (
	"bufio"
	"context"
	"crypto/subtle"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// The startup phase is handled by the proxy rather than relayed: it answers
// SSLRequest itself (Redshift accepts TLS; the backend does not need to),
// optionally checks a password itself (the backend trusts everyone), and
// opens the backend session with pgconn so that any backend authentication
// configured in the DSN just works. The client then sees a normal startup
// with server_version 8.0.2, as Redshift reports.

const (
	codeSSLRequest    = 80877103
	codeGSSEncRequest = 80877104
	codeCancelRequest = 80877102
	codeProtocol3     = 196608
)

// redshiftServerVersion is what Redshift reports in ParameterStatus.
const redshiftServerVersion = "8.0.2"

// startupTimeout bounds the whole startup exchange with one client.
const startupTimeout = 30 * time.Second

var errCancelHandled = errors.New("cancel request handled")

// clientStartup runs the client side of the startup phase up to (not
// including) authentication and returns the startup parameters.
func (ss *session) clientStartup(ctx context.Context) (map[string]string, error) {
	for {
		body, err := readStartup(ss.cr)
		if err != nil {
			return nil, err
		}
		switch code := binary.BigEndian.Uint32(body[:4]); code {
		case codeSSLRequest:
			if ss.srv.cfg.TLS == nil {
				if err := ss.writeClientRaw([]byte{'N'}); err != nil {
					return nil, err
				}
				continue
			}
			if ss.cr.Buffered() > 0 {
				// Bytes sent before the TLS handshake would be trusted as
				// if they had been encrypted (CVE-2021-23222): refuse.
				return nil, errors.New("client sent data after SSLRequest before TLS handshake")
			}
			if err := ss.writeClientRaw([]byte{'S'}); err != nil {
				return nil, err
			}
			tc := tls.Server(ss.client, ss.srv.cfg.TLS)
			if err := tc.HandshakeContext(ctx); err != nil {
				return nil, fmt.Errorf("TLS handshake: %w", err)
			}
			ss.setClient(tc)
		case codeGSSEncRequest:
			if err := ss.writeClientRaw([]byte{'N'}); err != nil {
				return nil, err
			}
		case codeCancelRequest:
			var cr pgproto3.CancelRequest
			if err := cr.Decode(body); err != nil {
				return nil, err
			}
			ss.srv.forwardCancel(ctx, &cr)
			return nil, errCancelHandled
		case codeProtocol3:
			var sm pgproto3.StartupMessage
			if err := sm.Decode(body); err != nil {
				return nil, err
			}
			return sm.Parameters, nil
		default:
			ss.fatal("0A000", fmt.Sprintf("unsupported frontend protocol %d.%d", code>>16, code&0xffff))
			return nil, fmt.Errorf("unsupported protocol code %d", code)
		}
	}
}

// checkPassword asks for a cleartext password when the server has one.
func (ss *session) checkPassword(params map[string]string) error {
	want := ss.srv.cfg.Password
	if want == "" {
		return nil
	}
	if err := writeEncoded(ss.cw, &pgproto3.AuthenticationCleartextPassword{}); err != nil {
		return err
	}
	if err := ss.cw.Flush(); err != nil {
		return err
	}
	typ, body, err := readMsg(ss.cr, nil)
	if err != nil {
		return err
	}
	got := cstring(body)
	if typ != 'p' || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		ss.fatal("28P01", fmt.Sprintf("password authentication failed for user %q", params["user"]))
		return errors.New("wrong password")
	}
	return nil
}

// connectBackend opens this client's backend session. The DSN decides user
// and database (falling back to the client's database when the DSN names
// none); the client's other startup parameters (application_name,
// client_encoding, DateStyle, ...) are passed on.
func (ss *session) connectBackend(ctx context.Context, params map[string]string) (*pgconn.HijackedConn, error) {
	cfg := ss.srv.backend.Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	for k, v := range params {
		switch k {
		case "user", "database", "replication":
		default:
			cfg.RuntimeParams[k] = v
		}
	}
	cfg.Database = ss.database
	pc, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := pc.SyncConn(ctx); err != nil {
		_ = pc.Close(ctx)
		return nil, err
	}
	hc, err := pc.Hijack()
	if err != nil {
		_ = pc.Close(ctx)
		return nil, err
	}
	_ = hc.Conn.SetDeadline(time.Time{})
	return hc, nil
}

// greetClient completes the client's startup as if the proxy were the
// server.
func (ss *session) greetClient(hc *pgconn.HijackedConn) error {
	msgs := []encoder{&pgproto3.AuthenticationOk{}}
	names := make([]string, 0, len(hc.ParameterStatuses))
	for k := range hc.ParameterStatuses {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := hc.ParameterStatuses[k]
		if k == "server_version" {
			v = redshiftServerVersion
		}
		msgs = append(msgs, &pgproto3.ParameterStatus{Name: k, Value: v})
	}
	msgs = append(msgs,
		&pgproto3.BackendKeyData{ProcessID: hc.PID, SecretKey: hc.SecretKey},
		&pgproto3.ReadyForQuery{TxStatus: 'I'})
	if err := writeEncoded(ss.cw, msgs...); err != nil {
		return err
	}
	return ss.cw.Flush()
}

// fatal sends a FATAL error to the client (best effort).
func (ss *session) fatal(code, msg string) {
	_ = writeEncoded(ss.cw, &pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: code, Message: msg})
	_ = ss.cw.Flush()
}

// backendFailure reports a backend connection failure to the client,
// keeping the backend's SQLSTATE when there is one.
func (ss *session) backendFailure(err error) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		ss.fatal(pe.Code, pe.Message)
		return
	}
	ss.fatal("08006", "redshiftsim: cannot connect to backend: "+err.Error())
}

// forwardCancel passes a client's CancelRequest to the backend: the client
// got the backend's real process ID and key in BackendKeyData.
func (s *Server) forwardCancel(ctx context.Context, cr *pgproto3.CancelRequest) {
	if len(s.backend.Host) == 0 {
		return
	}
	network, addr := "tcp", net.JoinHostPort(s.backend.Host, strconv.Itoa(int(s.backend.Port)))
	if filepath.IsAbs(s.backend.Host) {
		network, addr = "unix", filepath.Join(s.backend.Host, ".s.PGSQL."+strconv.Itoa(int(s.backend.Port)))
	}
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(dctx, network, addr)
	if err != nil {
		s.log.Warn("forwarding cancel request", "err", err)
		return
	}
	defer c.Close()
	buf, err := cr.Encode(nil)
	if err == nil {
		_, _ = c.Write(buf)
	}
}

// newBuffered wraps a connection for framed reads and writes.
func newBuffered(c net.Conn) (*bufio.Reader, *bufio.Writer) {
	return bufio.NewReaderSize(c, 32<<10), bufio.NewWriterSize(c, 32<<10)
}
