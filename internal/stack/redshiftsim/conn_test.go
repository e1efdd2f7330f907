package redshiftsim

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Connection-level behaviour: TLS, the proxy's own password check, cancel
// requests, and Close.

func TestTLSAndPassword(t *testing.T) {
	tlsCfg, err := SelfSignedTLS()
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *Config) { c.TLS = tlsCfg; c.Password = "s3cret" })

	db := e.open(e.dsn("rin:s3cret", "sslmode=require"))
	if err := db.PingContext(e.ctx); err != nil {
		t.Fatalf("TLS + right password: %v", err)
	}
	// COPY over TLS too.
	e.db = db
	tbl := e.table("id int, name text")
	e.put("tls/a.json", jsonLines(2))
	e.exec(e.copyJSON(tbl, "tls/"))
	if n := e.count(tbl); n != 2 {
		t.Fatalf("rows = %d", n)
	}

	bad := e.open(e.dsn("rin:wrong", "sslmode=require"))
	err = bad.PingContext(e.ctx)
	if pqCode(err) != "28P01" {
		t.Fatalf("wrong password: err = %v, want 28P01", err)
	}

	// pgx verifies nothing with sslmode=require either.
	conn, err := pgx.Connect(e.ctx, e.dsn("rin:s3cret", "sslmode=require"))
	if err != nil {
		t.Fatalf("pgx over TLS: %v", err)
	}
	if _, ok := conn.PgConn().Conn().(interface{ ConnectionState() tls.ConnectionState }); !ok {
		t.Fatalf("pgx connection is %T, want TLS", conn.PgConn().Conn())
	}
	conn.Close(e.ctx)
}

func TestNoTLSConfigured(t *testing.T) {
	e := newEnv(t)
	db := e.open(e.dsn("", "sslmode=require"))
	err := db.PingContext(e.ctx)
	if err == nil || !strings.Contains(err.Error(), "SSL is not enabled") {
		t.Fatalf("sslmode=require without TLS: err = %v", err)
	}
	// sslmode=prefer-style fallback (pgx) still connects in clear.
	conn, err := pgx.Connect(e.ctx, e.dsn("", "sslmode=prefer"))
	if err != nil {
		t.Fatal(err)
	}
	conn.Close(e.ctx)
}

func TestCancelRequestIsForwarded(t *testing.T) {
	e := newEnv(t)
	conn := e.pgxConn()
	ctx, cancel := context.WithTimeout(e.ctx, 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := conn.Exec(ctx, "SELECT pg_sleep(10)")
	if err == nil {
		t.Fatal("pg_sleep was not canceled")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("cancel took %v", d)
	}
}

func TestCloseEndsSessions(t *testing.T) {
	e := newEnv(t)
	conn := e.pgxConn()
	if st := e.srv.Stats(); st.ActiveConnections != 1 {
		t.Fatalf("stats = %+v", st)
	}
	done := make(chan error, 1)
	go func() { done <- e.srv.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return with an open session")
	}
	if err := conn.Ping(e.ctx); err == nil {
		t.Fatal("session survived Close")
	}
	if st := e.srv.Stats(); st.ActiveConnections != 0 {
		t.Fatalf("stats = %+v", st)
	}
}
