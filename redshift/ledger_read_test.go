package redshift

import (
	"context"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/journal"
)

// ledgerReadCase loads objects with LIKE's wildcards and quotes in their
// keys, then reads the ledger back by id and by prefix through copier.
func ledgerReadCase(t *testing.T, f *fixture, copier fsm.Copier) {
	t.Helper()
	ctx := context.Background()
	before := time.Now().Add(-time.Minute)
	// "a%/" and "a_/" would both match a LIKE 'a%' or 'a_' unescaped.
	in := []journal.Job{f.job(t, "lr/a%/1", 1), f.job(t, "lr/a%/it's!", 1)}
	out := []journal.Job{f.job(t, "lr/ab/1", 1), f.job(t, "lr/a_/2", 1)}
	if _, err := copier.Copy(ctx, f.batch(append(append([]journal.Job(nil), in...), out...)...)); err != nil {
		t.Fatal(err)
	}
	l, err := LedgerFor(copier, f.ep.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := l.Loaded(ctx, []string{in[0].ID, out[1].ID, "nope"})
	if err != nil || len(loaded) != 2 || !loaded[in[0].ID] || !loaded[out[1].ID] {
		t.Fatalf("Loaded = %v, %v; want the two loaded ids", loaded, err)
	}
	var got []string
	err = l.Rows(ctx, "s3://"+f.bucket+"/lr/a%/", func(r LedgerRow) error {
		if r.LoadedAt.Before(before) || r.JobID == "" {
			t.Errorf("row %+v", r)
		}
		got = append(got, strings.TrimPrefix(r.URI, "s3://"+f.bucket+"/"))
		return nil
	})
	sort.Strings(got)
	if err != nil || strings.Join(got, " ") != "lr/a%/1 lr/a%/it's!" {
		t.Fatalf("Rows(lr/a%%/) = %q, %v; want exactly the two keys under it", got, err)
	}
}

func TestLedgerReader(t *testing.T) {
	f := newFixture(t, "pw", nil)
	ledgerReadCase(t, f, Dispatch{f.ep.Endpoint(): f.copier})
}

func TestLedgerReaderDataAPI(t *testing.T) {
	f := newDataFixture(t, config.Ledger{})
	ledgerReadCase(t, f.fixture, f.copier)
}

// A ledger that was never created holds nothing; a disabled one cannot be
// read.
func TestLedgerReaderMissingOrDisabled(t *testing.T) {
	f := newFixture(t, "pw", nil)
	l, err := LedgerFor(f.copier, f.ep.Endpoint()) // nothing loaded: no table yet
	if err != nil {
		t.Fatal(err)
	}
	if got, err := l.Loaded(context.Background(), []string{"x"}); err != nil || len(got) != 0 {
		t.Fatalf("Loaded on a missing ledger = %v, %v", got, err)
	}
	if err := l.Rows(context.Background(), "s3://", func(LedgerRow) error { return errors.New("a row") }); err != nil {
		t.Fatalf("Rows on a missing ledger: %v", err)
	}
	off := New(Options{Endpoints: f.copier.opts.Endpoints, Ledger: config.Ledger{Disabled: true}})
	if _, err := LedgerFor(off, f.ep.Endpoint()); !errors.Is(err, ErrNoLedger) {
		t.Fatalf("LedgerFor(disabled) = %v, want ErrNoLedger", err)
	}
}
