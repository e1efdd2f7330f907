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
	o := fsm.OptionsFromConfig(cfg)
	// One invocation's records, handed out once: one receiver suffices.
	o.Receive.Receivers, o.Receive.MaxMessages = 1, 10
	o.BatchMode, o.ShutdownGrace, o.Logger = true, grace, log
	return o
}
