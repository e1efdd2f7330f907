package main

import (
	"context"
	"fmt"
)

// CheckCommand verifies the journal: bbolt's page consistency, the schema
// version, every job readable, and the state index agreeing with the jobs.
// It exits non-zero, listing what is wrong, when anything is.
type CheckCommand struct {
	env *Env
}

// Run checks the journal.
func (c *CheckCommand) Run(ctx context.Context, args []string) error {
	fs := c.env.newFlagSet("check", "check")
	if err := c.env.parseNoArgs(fs, args); err != nil {
		return err
	}
	s, err := c.env.open(ctx, readAccess)
	if err != nil {
		return err
	}
	defer s.close()
	problems, err := s.Check(ctx)
	if err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Fprintln(c.env.Stdout, p)
	}
	if len(problems) > 0 {
		return fmt.Errorf("journal %s: %s found", s.path, plural(len(problems), "problem"))
	}
	fmt.Fprintf(c.env.Stdout, "journal %s: ok (%s)\n", s.path, s.mode)
	return nil
}
