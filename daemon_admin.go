package main

import (
	"context"
	"sync"
	"time"

	"github.com/rinhq/rin/admin"
	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/journal"
)

// startAdmin starts what runs beside the engine for operators: the admin
// interface (unless admin.disabled), through which rin-journal works while
// rin holds the journal, and the hourly journal retention. The returned
// stop ends both; call it after the engine has stopped.
func (d *daemon) startAdmin(ctx context.Context, j *journal.Journal, engine *fsm.Engine) (stop func(), err error) {
	cfg := d.cfg
	var srv *admin.Server
	if !cfg.Admin.Disabled {
		srv, err = admin.Start(ctx, admin.ServerOptions{
			Journal: j, Engine: engine, Socket: cfg.Admin.Socket, Addr: cfg.Admin.Addr,
			Version: Version, Logger: d.log,
		})
		if err != nil {
			return nil, err
		}
	}
	retCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		admin.Retention{Journal: j, Keep: cfg.Journal.Retention.D(), Logger: d.log}.Run(retCtx)
	}()
	return func() {
		cancel()
		wg.Wait()
		if srv != nil {
			sctx, done := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer done()
			if err := srv.Shutdown(sctx); err != nil {
				d.log.Warn("admin interface shutdown", "err", err)
			}
		}
	}, nil
}
