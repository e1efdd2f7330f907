package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rinhq/rin/admin"
	"github.com/rinhq/rin/sqsx"
)

// RejectedCommand lists the SQS messages rin could not parse. rin journals
// them whole and deletes them from the queue, so they never stall it; this
// is where an operator finds them again, to fix the sender or replay them.
type RejectedCommand struct {
	env *Env
}

// Run parses the flags and lists the messages, newest first.
func (c *RejectedCommand) Run(ctx context.Context, args []string) error {
	fs := c.env.newFlagSet("rejected", "rejected [-since D] [-limit N] [-format json|table]")
	var f admin.RejectedFilter
	var format string
	fs.Var(&durationFlag{d: &f.Since}, "since", "only messages rejected within this long (e.g. 1h, 7d)")
	fs.IntVar(&f.Limit, "limit", 0, "only the newest this many (0: all)")
	fs.StringVar(&format, "format", "", "json (one message per line, whole body) or table (default: table on a terminal, else json)")
	if err := c.env.parseNoArgs(fs, args); err != nil {
		return err
	}
	format, err := c.env.format(format)
	if err != nil {
		return err
	}
	if err := f.Validate(); err != nil {
		return err
	}
	s, err := c.env.open(ctx, readAccess)
	if err != nil {
		return err
	}
	defer s.close()
	if format == "json" {
		w := bufio.NewWriter(c.env.Stdout)
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		if err := s.Rejected(ctx, f, func(r admin.RejectedRecord) error { return enc.Encode(r) }); err != nil {
			return err
		}
		return w.Flush()
	}
	return rejectedTable(ctx, c.env, s, f)
}

// rejectedTable prints a row per message. Bodies come from whoever can
// send to the queue, so they are shown escaped: a terminal must not obey
// escape sequences in them, nor a newline break the table.
func rejectedTable(ctx context.Context, env *Env, s *session, f admin.RejectedFilter) error {
	now := time.Now()
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tREJECTED\tREASON\tBODY")
	n := 0
	err := s.Rejected(ctx, f, func(r admin.RejectedRecord) error {
		n++
		// Every reason starts "sqsx: malformed message: "; the table
		// spends its width on the rest (JSON keeps the whole reason).
		reason := strings.TrimPrefix(r.Reason, sqsx.ErrMalformed.Error()+": ")
		_, err := fmt.Fprintf(tw, "%s\t%s ago\t%s\t%s\n", escape(r.ID, 64), age(now.Sub(r.Rejected)), escape(reason, 80), escape(r.Body, 80))
		return err
	})
	if err != nil {
		return err
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "%s (%s)\n", plural(n, "rejected message"), s.mode)
	return nil
}

// escape shows s on one line within n runes: control characters and other
// unprintable runes (a bidi override, a stray byte) become Go-style escapes.
func escape(s string, n int) string {
	var b strings.Builder
	runes := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		part := escapeRune(r, size, s[i])
		i += size
		k := utf8.RuneCountInString(part)
		// Keep room for the ellipsis unless this is the last rune.
		if runes+k > n || (i < len(s) && runes+k > n-1) {
			return b.String() + "…"
		}
		b.WriteString(part)
		runes += k
	}
	return b.String()
}

// escapeRune is r as escape shows it; b is its first byte, for a byte that
// is not UTF-8.
func escapeRune(r rune, size int, b byte) string {
	switch {
	case r == utf8.RuneError && size == 1:
		return fmt.Sprintf(`\x%02x`, b)
	case r == '\n':
		return `\n`
	case r == '\r':
		return `\r`
	case r == '\t':
		return `\t`
	case r == ' ' || unicode.IsPrint(r):
		return string(r)
	case r < 0x80:
		return fmt.Sprintf(`\x%02x`, r)
	case r <= 0xffff:
		return fmt.Sprintf(`\u%04x`, r)
	}
	return fmt.Sprintf(`\U%08x`, r)
}
