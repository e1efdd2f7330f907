package fsm

import (
	"testing"

	"github.com/rinhq/rin/config"
)

// TestDefaultsAreConfigs: an engine given no options runs with the values a
// config that sets none of them resolves to (config defines each default
// once). batch.max_age and batch.copy_timeout are the exceptions the
// engine's options document: a zero there is a value, not "unset".
func TestDefaultsAreConfigs(t *testing.T) {
	cfg, err := config.Parse([]byte(testConfig), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fromConfig := OptionsFromConfig(cfg)
	fromConfig.setDefaults()
	var zero Options
	zero.setDefaults()
	if fromConfig.Receive != zero.Receive {
		t.Errorf("receive: engine defaults %+v, config's %+v", zero.Receive, fromConfig.Receive)
	}
	if fromConfig.Retry != zero.Retry {
		t.Errorf("retry: engine defaults %+v, config's %+v", zero.Retry, fromConfig.Retry)
	}
	zb, cb := zero.Batch, fromConfig.Batch
	if zb.MaxFiles != cb.MaxFiles || zb.MaxBytes != cb.MaxBytes || zb.Concurrency != cb.Concurrency {
		t.Errorf("batch: engine defaults %+v, config's %+v", zb, cb)
	}
	if zero.ShutdownGrace != config.DefaultShutdownGrace.D() {
		t.Errorf("shutdown grace %s, want config's %s", zero.ShutdownGrace, config.DefaultShutdownGrace)
	}
}
