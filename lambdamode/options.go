package lambdamode

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// PoisonPolicy says what becomes of a message whose body is no S3 event.
type PoisonPolicy string

const (
	// PoisonDrop logs the message with its whole body and lets Lambda
	// delete it, so it never blocks its batch again. The default, as in
	// the daemon (which journals and deletes it).
	PoisonDrop PoisonPolicy = "drop"
	// PoisonRedrive reports the message in batchItemFailures, so it comes
	// back until the queue's redrive policy moves it to the dead-letter
	// queue. It is logged with its whole body each time.
	PoisonRedrive PoisonPolicy = "redrive"
)

// Options tune the handler. The zero value is ready to use.
type Options struct {
	Poison PoisonPolicy
	// Margin is how long before the invocation's deadline the engine stops
	// starting COPYs; 0 derives it from the time left (see planStop).
	Margin time.Duration
	// TempDir holds each invocation's journal; default os.TempDir() (/tmp,
	// the only writable disk in Lambda).
	TempDir string
	Logger  *slog.Logger
}

// Environment variables OptionsFromEnv reads. Lambda functions are
// configured through their environment; the config file (RIN_CONFIG) is
// often shared with daemons and stays as the original Rin's.
const (
	EnvPoison = "RIN_LAMBDA_POISON" // drop (default) or redrive
	EnvMargin = "RIN_LAMBDA_MARGIN" // a Go duration, e.g. 30s
)

// OptionsFromEnv reads Options from the environment through getenv.
func OptionsFromEnv(getenv func(string) string) (Options, error) {
	var o Options
	var errs []error
	switch p := PoisonPolicy(strings.ToLower(strings.TrimSpace(getenv(EnvPoison)))); p {
	case "", PoisonDrop:
		o.Poison = PoisonDrop
	case PoisonRedrive:
		o.Poison = PoisonRedrive
	default:
		errs = append(errs, fmt.Errorf("%s=%q: want %q or %q", EnvPoison, p, PoisonDrop, PoisonRedrive))
	}
	if v := strings.TrimSpace(getenv(EnvMargin)); v != "" {
		d, err := time.ParseDuration(v)
		if err == nil && d <= 0 {
			err = errors.New("must be positive")
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %w", EnvMargin, v, err))
		}
		o.Margin = d
	}
	return o, errors.Join(errs...)
}
