package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/rinhq/rin/journal"
)

// CompactCommand rewrites the journal into a new file without its free
// pages: bbolt files never shrink by themselves, so after a large forget
// the space is only reclaimed this way. rin must be stopped.
type CompactCommand struct {
	env *Env
}

// Run compacts to -o (default PATH.compact) and, with -replace, puts the
// result in place of the journal.
func (c *CompactCommand) Run(ctx context.Context, args []string) error {
	fs := c.env.newFlagSet("compact", "compact [-o DST] [-replace]")
	var dst string
	var replace bool
	fs.StringVar(&dst, "o", "", "write the compacted journal here (default: the journal's path + .compact)")
	fs.BoolVar(&replace, "replace", false, "then replace the journal with the compacted file")
	if err := c.env.parseNoArgs(fs, args); err != nil {
		return err
	}
	s, err := c.env.resolve(ctx)
	if err != nil {
		return err
	}
	rin, err := c.env.dialRin(ctx, s)
	if err != nil {
		return err
	}
	if rin != nil {
		defer rin.Close()
		return fmt.Errorf("compact: %w (pid %d, socket %s): compaction is offline only; stop rin first", errRunning, rin.Health().PID, s.socket)
	}
	if dst == "" {
		dst = s.journal + ".compact"
	}
	before, err := os.Stat(s.journal)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("journal %s: %w (give -journal PATH, or -config with rin's config)", s.journal, journal.ErrNotExist)
	}
	if err != nil {
		return err
	}
	from, to, err := journal.Compact(s.journal, dst)
	if err != nil {
		return err
	}
	if !replace {
		fmt.Fprintf(c.env.Stdout, "compacted %s (%s) into %s (%s)\n", s.journal, size(from), dst, size(to))
		return nil
	}
	if err := replaceJournal(s.journal, dst, before); err != nil {
		return err
	}
	fmt.Fprintf(c.env.Stdout, "compacted %s: %s → %s\n", s.journal, size(from), size(to))
	return nil
}

// replaceJournal renames dst over src, holding src's lock so that no rin
// can be using it, and only if src was not written since compaction
// started (a rin that came and went would have added jobs dst lacks).
// dst gets src's owner, so that a rin running as another user can open it.
func replaceJournal(src, dst string, before os.FileInfo) error {
	unlock, err := lockFile(src)
	if err != nil {
		return fmt.Errorf("compact: %s: %w (is rin running?); the compacted copy is %s", src, err, dst)
	}
	defer unlock()
	now, err := os.Stat(src)
	if err != nil {
		return err
	}
	if now.Size() != before.Size() || !now.ModTime().Equal(before.ModTime()) {
		os.Remove(dst)
		return fmt.Errorf("compact: %s changed during compaction (did rin start?); nothing replaced", src)
	}
	if err := chownLike(dst, now); err != nil {
		return fmt.Errorf("compact: %w; the compacted copy is %s", err, dst)
	}
	if err := os.Rename(dst, src); err != nil {
		return fmt.Errorf("compact: %w; the compacted copy is %s", err, dst)
	}
	return nil
}

func size(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
