package main

import (
	"context"
	"fmt"

	"github.com/rinhq/rin/admin"
)

// RequeueCommand sends failed jobs back to received with attempts reset,
// once their cause is fixed. Live, rin loads them at once; offline, the
// next rin to start does. Either way the Redshift ledger stops a second
// load of a job that had in fact been copied.
type RequeueCommand struct {
	env *Env
}

// Run requeues the named jobs, or every failed one. It is all or nothing:
// an unknown id or a job that is not failed changes nothing.
func (c *RequeueCommand) Run(ctx context.Context, args []string) error {
	fs := c.env.newFlagSet("requeue", "requeue [-all-failed [-target T]] [job id ...]")
	var req admin.RequeueRequest
	fs.BoolVar(&req.AllFailed, "all-failed", false, "requeue every failed job")
	fs.StringVar(&req.Target, "target", "", "with -all-failed: only the failed jobs of this target, e.g. 'targets[1]'")
	if err := fs.Parse(args); err != nil {
		return err
	}
	req.IDs = fs.Args()
	if !req.AllFailed && len(req.IDs) == 0 {
		return fmt.Errorf("requeue: give job ids (see rin-journal dump -state failed) or -all-failed")
	}
	s, err := c.env.open(ctx, writeAccess)
	if err != nil {
		return err
	}
	defer s.close()
	recs, err := s.Requeue(ctx, req)
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		fmt.Fprintln(c.env.Stdout, "nothing to requeue: no failed jobs")
		return nil
	}
	for _, r := range recs {
		fmt.Fprintf(c.env.Stdout, "requeued %s %s %s\n", r.ID, r.Target, r.URI)
	}
	when := "rin loads them now"
	if !s.live {
		when = "rin loads them when it next starts"
	}
	fmt.Fprintf(c.env.Stdout, "%s requeued (%s; %s)\n", plural(len(recs), "job"), s.mode, when)
	return nil
}
