package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rinhq/rin/admin"
	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/journal"
)

// Env is what every command shares: the streams and the global flags.
type Env struct {
	Stdout, Stderr io.Writer
	Terminal       bool
	Globals        Globals
}

// Globals are the flags every command accepts. Empty means not given.
type Globals struct {
	ConfigPath  string
	JournalPath string
	SocketPath  string
}

// register adds the global flags to fs. The current values are the
// defaults, so flags given before the command survive the command's own
// flag set.
func (g *Globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.ConfigPath, "config", g.ConfigPath, "rin's config file, for journal.path, journal.retention and admin.socket (default config.yaml, if present)")
	fs.StringVar(&g.JournalPath, "journal", g.JournalPath, "journal file (default: journal.path of the config, else "+config.DefaultJournalPath+")")
	fs.StringVar(&g.SocketPath, "socket", g.SocketPath, "rin's admin socket (default: admin.socket of the config, else rin.sock beside the journal)")
}

// settings are the globals resolved against the config.
type settings struct {
	journal         string
	journalExplicit bool
	socket          string // "" when the admin interface is disabled
	retention       time.Duration
}

// resolve reads the config, if any, for what the flags leave unset. An
// explicit -config must load; an implicit config.yaml that does not (its
// template may need rin's environment) is reported and skipped.
func (e *Env) resolve(ctx context.Context) (settings, error) {
	g := e.Globals
	s := settings{journal: g.JournalPath, journalExplicit: g.JournalPath != "", socket: g.SocketPath, retention: config.DefaultJournalRetention.D()}
	path, explicit := g.ConfigPath, g.ConfigPath != ""
	if !explicit {
		path = "config.yaml"
	}
	var cfg *config.Config
	if _, err := os.Stat(path); explicit || err == nil {
		c, err := config.Load(ctx, path, config.WithQueueOptional())
		switch {
		case err == nil:
			cfg = c
		case explicit:
			return s, err
		default:
			fmt.Fprintf(e.Stderr, "rin-journal: ignoring %s: %v\n", path, err)
		}
	}
	if cfg != nil {
		s.retention = cfg.Journal.Retention.D()
	}
	switch {
	case s.journal != "":
	case cfg != nil:
		s.journal = cfg.Journal.Path
		if s.socket == "" && !cfg.Admin.Disabled {
			s.socket = cfg.Admin.Socket
		}
		// admin.disabled: nothing to dial; rin holds the file if running.
		return s, nil
	default:
		s.journal = config.DefaultJournalPath
	}
	if s.socket == "" {
		s.socket = filepath.Join(filepath.Dir(s.journal), config.DefaultAdminSocket)
	}
	return s, nil
}

// access is what a command needs of the journal when rin is not running.
type access int

const (
	readAccess  access = iota // shared lock, never creates or writes
	writeAccess               // exclusive lock
)

// session is a Service and how it was reached.
type session struct {
	admin.Service
	mode  string // for people: "live (rin pid 42 via rin.sock)" or "offline"
	live  bool
	path  string
	close func() error
}

// Sentinels for the command's own failures.
var (
	// errRunning: an offline-only command found rin running.
	errRunning = errors.New("rin is running")
	// errLocked: a process holds the journal file.
	errLocked = errors.New("the journal is in use by another process")
)

// dialRin reports the running rin on the socket, nil when there is none.
func (e *Env) dialRin(ctx context.Context, s settings) (*admin.Client, error) {
	if s.socket == "" {
		return nil, nil
	}
	c, err := admin.Dial(ctx, s.socket)
	switch {
	case err == nil:
	case errors.Is(err, admin.ErrNotRunning):
		return nil, nil
	default:
		return nil, err
	}
	if s.journalExplicit && !sameFile(c.Health().Journal, s.journal) {
		c.Close()
		return nil, fmt.Errorf("the rin on %s (pid %d) holds %s, not %s; give the matching -socket", s.socket, c.Health().PID, c.Health().Journal, s.journal)
	}
	return c, nil
}

// open reaches the journal: through rin when its admin socket answers,
// otherwise by opening the file.
func (e *Env) open(ctx context.Context, a access) (*session, error) {
	s, err := e.resolve(ctx)
	if err != nil {
		return nil, err
	}
	c, err := e.dialRin(ctx, s)
	if err != nil {
		return nil, err
	}
	if c != nil {
		h := c.Health()
		return &session{Service: c, live: true, path: h.Journal, mode: fmt.Sprintf("live, through rin pid %d on %s", h.PID, s.socket), close: c.Close}, nil
	}
	j, err := journal.Open(s.journal, journal.Options{ReadOnly: a == readAccess, MustExist: true})
	if errors.Is(err, journal.ErrNotExist) {
		return nil, fmt.Errorf("%w (give -journal PATH, or -config with rin's config)", err)
	}
	if err != nil {
		return nil, err
	}
	return &session{Service: &admin.Local{Journal: j}, mode: "offline", path: s.journal, close: j.Close}, nil
}

func sameFile(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

// durationFlag is a flag taking rin's duration syntax (7d, 36h, 90m).
type durationFlag struct {
	d   *time.Duration
	set bool
}

func (f *durationFlag) String() string {
	if f.d == nil || *f.d == 0 {
		return ""
	}
	return config.Duration(*f.d).String()
}

func (f *durationFlag) Set(s string) error {
	d, err := config.ParseDuration(s)
	if err != nil {
		return err
	}
	if d < 0 {
		return fmt.Errorf("negative duration %s", s)
	}
	*f.d, f.set = d.D(), true
	return nil
}

// newFlagSet is a command's flag set, with the global flags too.
func (e *Env) newFlagSet(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet("rin-journal "+name, flag.ContinueOnError)
	fs.SetOutput(e.Stderr)
	e.Globals.register(fs)
	fs.Usage = func() {
		fmt.Fprintf(e.Stderr, "Usage: rin-journal %s\n\nFlags:\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseNoArgs parses the flags of a subcommand that takes no arguments.
func (e *Env) parseNoArgs(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q", strings.TrimPrefix(fs.Name(), "rin-journal "), fs.Arg(0))
	}
	return nil
}

// format picks the output format: the flag, else a table on a terminal
// and JSON otherwise.
func (e *Env) format(flagValue string) (string, error) {
	switch flagValue {
	case "":
		if e.Terminal {
			return "table", nil
		}
		return "json", nil
	case "json", "table":
		return flagValue, nil
	}
	return "", fmt.Errorf("-format %q: want json or table", flagValue)
}
