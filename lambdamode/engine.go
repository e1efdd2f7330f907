package lambdamode

import (
	"log/slog"
	"time"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/fsm"
)

// engineOptions are the daemon's engine options from the config, with what
// one invocation needs instead: batch mode (return once every record is
// done, with no waiting for batches to fill once all records are in), one
// receiver (receiving is a slice copy), and the plan's grace for COPYs
// running when the invocation stops.
func engineOptions(cfg *config.Config, grace time.Duration, log *slog.Logger) fsm.Options {
	return fsm.Options{
		Receive: fsm.ReceiveOptions{
			Receivers: 1, MaxMessages: 10,
			Visibility: cfg.Receive.VisibilityTimeout.D(), MaxPending: cfg.Receive.MaxPending,
		},
		Retry: fsm.RetryOptions{
			InitialInterval: cfg.Retry.InitialInterval.D(), MaxInterval: cfg.Retry.MaxInterval.D(),
			Multiplier: cfg.Retry.Multiplier, MaxAttempts: cfg.Retry.MaxAttempts, MaxElapsed: cfg.Retry.MaxElapsed.D(),
		},
		Batch: fsm.BatchOptions{
			MaxFiles: cfg.Batch.MaxFiles, MaxBytes: cfg.Batch.MaxBytes,
			MaxAge: cfg.Batch.MaxAge.D(), Concurrency: cfg.Batch.Concurrency,
			CopyTimeout: cfg.Batch.CopyTimeout.D(),
		},
		BatchMode:     true,
		ShutdownGrace: grace,
		Logger:        log,
	}
}
