package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/rinhq/rin/admin"
	"github.com/rinhq/rin/internal/stack/redshiftsim"
	"github.com/rinhq/rin/journal"
)

// progress shows rin's headway while it runs: objects loaded (from rin's
// admin socket, the same numbers `rin-journal stats` shows live), rows and
// COPYs (from the Redshift simulator's counters), elapsed time.
type progress struct {
	w      io.Writer
	tty    bool // redraw one line in place; otherwise a line now and then
	total  int
	sim    *redshiftsim.Server
	socket string
	start  time.Time
	log    *slog.Logger

	client *admin.Client
	loaded int
	failed int
}

// Refresh intervals: in place on a terminal, sparser lines in a log.
const (
	ttyInterval  = 500 * time.Millisecond
	lineInterval = 3 * time.Second
)

// run redraws until done is closed or ctx ends. It leaves the cursor on
// the progress line; finish ends it.
func (p *progress) run(ctx context.Context, done <-chan struct{}) {
	interval := lineInterval
	if p.tty {
		interval = ttyInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	defer func() {
		if p.client != nil {
			p.client.Close()
		}
	}()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-t.C:
			p.poll(ctx)
			p.draw(false)
		}
	}
}

// poll asks rin for its job counts; rin answers once its admin socket is up.
func (p *progress) poll(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if p.client == nil {
		c, err := admin.Dial(ctx, p.socket)
		if err != nil {
			if !errors.Is(err, admin.ErrNotRunning) {
				p.log.Debug("admin dial", "err", err)
			}
			return
		}
		p.client = c
	}
	st, err := p.client.Stats(ctx, admin.StatsOptions{})
	if err != nil {
		p.log.Debug("admin stats", "err", err) // rin is stopping, or busy
		return
	}
	p.loaded = st.States[journal.Copied] + st.States[journal.Acked]
	p.failed = st.States[journal.Failed]
}

// finish draws the final line with the journal's own count (rin has exited,
// its socket is gone) and rin's run time, and ends the line.
func (p *progress) finish(loaded, failed int, took time.Duration) {
	p.loaded, p.failed = loaded, failed
	p.drawAt(true, took)
}

func (p *progress) draw(final bool) { p.drawAt(final, time.Since(p.start)) }

func (p *progress) drawAt(final bool, elapsed time.Duration) {
	s := p.sim.Stats()
	line := fmt.Sprintf("  %d/%d objects loaded · %s rows · %d COPYs", p.loaded, p.total, commas(s.RowsLoaded), s.Copies)
	if p.failed > 0 || s.CopiesFailed > 0 {
		line += fmt.Sprintf(" · %d failed jobs, %d failed COPYs", p.failed, s.CopiesFailed)
	}
	line += fmt.Sprintf(" · %.1fs", elapsed.Seconds())
	switch {
	case p.tty && final:
		fmt.Fprintf(p.w, "\r\033[K%s\n", line)
	case p.tty:
		fmt.Fprintf(p.w, "\r\033[K%s", line)
	default:
		fmt.Fprintln(p.w, line)
	}
}

// commas formats n with thousands separators (6512 → 6,512).
func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}
