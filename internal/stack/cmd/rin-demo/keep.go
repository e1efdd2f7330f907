package main

import (
	"context"
	"path/filepath"
	"strings"
)

// keep leaves the stack up for exploring until ctx ends (Ctrl-C), and says
// how to reach it: psql through the simulator or straight to PostgreSQL,
// rin-journal on the journal, and the environment to run rin again.
func (d *demo) keep(ctx context.Context) {
	jnl := d.rel(filepath.Join(d.out, journalFile))
	d.printf("\nThe stack keeps running until Ctrl-C (-keep).\n")
	d.printf("  psql through the Redshift simulator:\n    psql %s\n", shellQuote(d.st.RedshiftDSN()))
	d.printf("  psql straight to PostgreSQL (no COPY from S3 there):\n    psql %s\n", shellQuote(d.st.BackendDSN()))
	d.printf("    e.g. SELECT status, count(*) FROM app.access GROUP BY 1 ORDER BY 1;\n")
	d.printf("  the journal (rin has exited, so rin-journal opens the file):\n    go run ./cmd/rin-journal -journal %s stats -format table\n    go run ./cmd/rin-journal -journal %s dump | head\n", jnl, jnl)
	d.printf("  rin again, against this stack (from the module root):\n")
	for _, kv := range d.st.Env() {
		k, v, _ := strings.Cut(kv, "=")
		d.printf("    export %s=%s\n", k, shellQuote(v))
	}
	d.printf("    go run . -config %s -batch\n", d.rel(filepath.Join(d.out, configFile)))
	<-ctx.Done()
	d.printf("\nCtrl-C: stopping.\n")
}

// shellQuote quotes v for a POSIX shell when it holds anything but plain
// URL and path characters.
func shellQuote(v string) string {
	plain := v != "" && strings.IndexFunc(v, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@,=+", r))
	}) < 0
	if plain {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}
