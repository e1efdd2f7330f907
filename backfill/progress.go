package backfill

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Printer shows a run's progress: on a terminal one line redrawn in place
// (a bar), elsewhere a plain line at most every Every, so logs of a long
// backfill stay readable.
type Printer struct {
	W        io.Writer
	Terminal bool
	Every    time.Duration // plain lines: least time between two (10 s when 0)

	mu   sync.Mutex
	last time.Time
	prev Progress
}

// Update shows p: Run's Progress callback.
func (pr *Printer) Update(p Progress) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	now := time.Now()
	if pr.Terminal {
		if now.Sub(pr.last) < 100*time.Millisecond && !p.ListingDone {
			return
		}
		pr.last = now
		fmt.Fprintf(pr.W, "\r\033[K%s", bar(p))
		return
	}
	every := pr.Every
	if every <= 0 {
		every = 10 * time.Second
	}
	changed := p.ListingDone != pr.prev.ListingDone
	if !changed && now.Sub(pr.last) < every {
		return
	}
	pr.last, pr.prev = now, p
	fmt.Fprintln(pr.W, line(p))
}

// Done ends the progress display with the final figures.
func (pr *Printer) Done(p Progress) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if pr.Terminal {
		fmt.Fprintf(pr.W, "\r\033[K%s\n", bar(p))
		return
	}
	fmt.Fprintln(pr.W, line(p))
}

// bar is the terminal line:
//
//	listed 1,000  queued 500  loaded 320 [#######------]  412/s  ETA 0:01  already 500  held 0  failed 0
func bar(p Progress) string {
	const width = 24
	filled := 0
	if p.Queued > 0 {
		filled = width * p.Loaded / p.Queued
	}
	listed := commas(p.Listed)
	if !p.ListingDone {
		listed += "…"
	}
	s := fmt.Sprintf("listed %s  queued %s  loaded %s [%s%s]  %s/s  ETA %s  already %s",
		listed, commas(p.Queued), commas(p.Loaded), strings.Repeat("#", filled), strings.Repeat("-", width-filled),
		commas(int(p.Rate())), eta(p), commas(p.Already))
	if p.Held > 0 {
		s += "  held " + commas(p.Held)
	}
	if p.Failed > 0 {
		s += "  failed " + commas(p.Failed)
	}
	return s
}

// line is the plain progress line, key=value for log readers.
func line(p Progress) string {
	return fmt.Sprintf("backfill: listed=%d listing_done=%t jobs=%d already=%d queued=%d loaded=%d held=%d failed=%d rate=%.0f/s eta=%s elapsed=%s",
		p.Listed, p.ListingDone, p.Jobs, p.Already, p.Queued, p.Loaded, p.Held, p.Failed, p.Rate(), eta(p), p.Elapsed.Round(time.Second))
}

func eta(p Progress) string {
	d := p.ETA()
	if d == 0 {
		if p.Queued > 0 && p.Loaded < p.Queued {
			return "?"
		}
		return "0s"
	}
	return d.Round(time.Second).String()
}

// commas writes n with thousands separators.
func commas(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
