package fsm

import "github.com/rinhq/rin/config"

// OptionsFromConfig is the engine's tuning as the config's receive, retry
// and batch sections set it. Every source of jobs (the daemon, Lambda
// mode, backfill) starts from it and sets what is its own: batch mode,
// the shutdown grace, the logger, the queue's retention.
func OptionsFromConfig(cfg *config.Config) Options {
	return Options{
		Receive: ReceiveOptions{
			Receivers: cfg.Receive.Receivers, MaxMessages: cfg.Receive.MaxMessages,
			WaitTime: cfg.Receive.WaitTime.D(), Visibility: cfg.Receive.VisibilityTimeout.D(),
			MaxPending: cfg.Receive.MaxPending,
		},
		Retry: RetryOptions{
			InitialInterval: cfg.Retry.InitialInterval.D(), MaxInterval: cfg.Retry.MaxInterval.D(),
			Multiplier: cfg.Retry.Multiplier, MaxAttempts: cfg.Retry.MaxAttempts, MaxElapsed: cfg.Retry.MaxElapsed.D(),
		},
		Batch: BatchOptions{
			MaxFiles: cfg.Batch.MaxFiles, MaxBytes: cfg.Batch.MaxBytes,
			MaxAge: cfg.Batch.MaxAge.D(), Concurrency: cfg.Batch.Concurrency,
			// No bound here: batch.copy_timeout counts from the moment the
			// COPY starts, after the wait for the table's guard, which
			// batch.lock_timeout bounds; only the Copier sees that moment
			// (redshift.Timeouts).
			CopyTimeout: 0,
		},
		Overwrites: cfg.Overwrites,
	}
}
