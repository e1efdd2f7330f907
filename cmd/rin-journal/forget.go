package main

import (
	"context"
	"fmt"
	"time"

	"github.com/rinhq/rin/config"
)

// ForgetCommand drops acked jobs older than a retention. Acked jobs are
// rin's dedupe memory: a redelivered S3 event for a forgotten job is taken
// as new work (the Redshift ledger, unless disabled, still refuses the
// second load). rin applies journal.retention by itself every hour; this
// is for doing it now, or with a shorter window to reclaim space.
type ForgetCommand struct {
	env *Env
}

// Run forgets and says how many jobs went.
func (c *ForgetCommand) Run(ctx context.Context, args []string) error {
	fs := c.env.newFlagSet("forget", "forget [-older-than D]")
	var older time.Duration
	flag := &durationFlag{d: &older}
	fs.Var(flag, "older-than", "forget acked jobs last updated longer ago than this, e.g. 7d (default: journal.retention of the config, else "+config.DefaultJournalRetention.String()+")")
	if err := c.env.parseNoArgs(fs, args); err != nil {
		return err
	}
	if flag.set && older == 0 {
		return fmt.Errorf("forget: -older-than must be positive (it is the dedupe window)")
	}
	if !flag.set {
		st, err := c.env.resolve(ctx)
		if err != nil {
			return err
		}
		older = st.retention
	}
	s, err := c.env.open(ctx, writeAccess)
	if err != nil {
		return err
	}
	defer s.close()
	res, err := s.Forget(ctx, older)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.env.Stdout, "forgot %s last updated before %s (older than %s; %s)\n",
		plural(res.Forgotten, "acked job"), res.Cutoff.Local().Format(time.RFC3339), config.Duration(older), s.mode)
	if res.RejectedForgotten > 0 {
		fmt.Fprintf(c.env.Stdout, "forgot %s rejected before %s\n", plural(res.RejectedForgotten, "message"), res.Cutoff.Local().Format(time.RFC3339))
	}
	return nil
}
