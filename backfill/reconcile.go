package backfill

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/rinhq/rin/admin"
	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/journal"
	"github.com/rinhq/rin/redshift"
)

// JournalReader reads the journal's jobs (admin.Service's Dump: live
// through rin, or offline on the file).
type JournalReader interface {
	Dump(ctx context.Context, f admin.Filter, fn func(admin.Record) error) error
}

// LedgerRows reads an endpoint's ledger rows under a URI prefix
// (*redshift.LedgerReader).
type LedgerRows interface {
	Rows(ctx context.Context, uriPrefix string, fn func(redshift.LedgerRow) error) error
}

// ReconcileOptions configure Reconcile.
type ReconcileOptions struct {
	Sources []Source
	// Since and Until bound the objects reported by LastModified, and the
	// ledger rows of objects gone from S3 by when they were loaded.
	Since, Until time.Time
	Versions     Versions
	Skip         func(bucket, key string) bool // rin's manifests
	S3           S3API
	Router       fsm.Router
	// Journal is nil when there is none to read.
	Journal JournalReader
	// Holds are the scopes the running rin holds (none offline).
	Holds []fsm.Hold
	// Ledgers are the ledgers of the config's endpoints, by endpoint;
	// empty with ledger.disabled.
	Ledgers map[string]LedgerRows
}

// Why a job of an object in S3 is not loaded, as -json says it.
const (
	ReasonNoEvent    = "no_event"   // nothing in the journal or the ledger: no event reached rin
	ReasonPending    = "pending"    // rin has the job and has not loaded it yet
	ReasonHeld       = "held"       // pending behind a scope an environment fault holds
	ReasonFailed     = "failed"     // parked failed, for a person
	ReasonSuperseded = "superseded" // an earlier version of the key was loaded, not this one
)

// Report is reconcile's answer.
type Report struct {
	Sources   []string       `json:"sources"`
	Since     *time.Time     `json:"since"`
	Until     *time.Time     `json:"until"`
	Objects   int            `json:"objects"` // in S3, within since/until
	Unrouted  int            `json:"unrouted"`
	Discarded int            `json:"discarded"`
	Ledgers   int            `json:"ledgers"` // endpoints whose ledger was read
	Journal   bool           `json:"journal"` // whether a journal was read
	Targets   []TargetReport `json:"targets"`
	Missing   int            `json:"missing"` // jobs of objects in S3 not loaded
	Gone      int            `json:"gone"`    // loaded, no longer in S3
}

// TargetReport is one target's part of the report.
type TargetReport struct {
	Target  string    `json:"target"`
	Tables  []string  `json:"tables"`
	InS3    int       `json:"in_s3"`
	Loaded  int       `json:"loaded"`
	Missing []Missing `json:"missing"`
	Gone    []Gone    `json:"gone"`
}

// Missing is an object in S3 that a target has not loaded.
type Missing struct {
	URI     string `json:"uri"`
	Version string `json:"version"`
	Table   string `json:"table"`
	Reason  string `json:"reason"`
	Detail  string `json:"detail"`
}

// Gone is a loaded object no longer in S3.
type Gone struct {
	URI      string     `json:"uri"`
	Version  string     `json:"version"`
	Table    string     `json:"table"`
	JobID    string     `json:"job_id"`
	LoadedAt *time.Time `json:"loaded_at"`
}

// ledgerRow is a ledger row with its endpoint.
type ledgerRow struct {
	redshift.LedgerRow
	endpoint string
}

// reconciler holds what the journal and the ledgers say about the sources.
type reconciler struct {
	o        ReconcileOptions
	rep      Report
	targets  map[string]*TargetReport
	tables   map[string]map[string]bool
	jobs     map[string]admin.Record   // journal, by job id
	jobsURI  map[string][]admin.Record // journal, by URI
	rows     map[string]ledgerRow      // ledger, by job id
	rowsURI  map[string][]ledgerRow    // ledger, by URI
	listed   map[string]bool           // URIs in S3 now
	reported map[string]bool           // gone ids already reported
}

// Reconcile lists the sources and reports, per target, what is loaded, what
// is not (and why) and what is loaded but gone from S3.
func Reconcile(ctx context.Context, o ReconcileOptions) (*Report, error) {
	r := &reconciler{o: o, targets: map[string]*TargetReport{}, tables: map[string]map[string]bool{},
		jobs: map[string]admin.Record{}, jobsURI: map[string][]admin.Record{},
		rows: map[string]ledgerRow{}, rowsURI: map[string][]ledgerRow{},
		listed: map[string]bool{}, reported: map[string]bool{}}
	for _, s := range o.Sources {
		r.rep.Sources = append(r.rep.Sources, s.String())
	}
	if !o.Since.IsZero() {
		r.rep.Since = &o.Since
	}
	if !o.Until.IsZero() {
		r.rep.Until = &o.Until
	}
	if err := r.read(ctx); err != nil {
		return nil, err
	}
	// Every object is listed, whatever its age: an object outside the
	// range is still in S3, so its ledger rows are not "gone".
	lo := ListOptions{Versions: o.Versions, Skip: o.Skip}
	in := ListOptions{Since: o.Since, Until: o.Until}
	for _, src := range o.Sources {
		_, err := List(ctx, o.S3, src, lo, func(objs []Object) error {
			for _, obj := range objs {
				r.listed[obj.URI()] = true
			}
			var inRange []Object
			for _, obj := range objs {
				if in.in(obj.LastModified) {
					inRange = append(inRange, obj)
				}
			}
			for _, p := range plan(o.Router, inRange) {
				r.object(p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	r.gone()
	return r.report(), nil
}

// read loads the journal's jobs and the ledger rows under the sources.
func (r *reconciler) read(ctx context.Context) error {
	for _, src := range r.o.Sources {
		prefix := src.String()
		if r.o.Journal != nil {
			r.rep.Journal = true
			if err := r.o.Journal.Dump(ctx, admin.Filter{KeyPrefix: prefix}, func(rec admin.Record) error {
				r.jobs[rec.ID] = rec
				r.jobsURI[rec.URI] = append(r.jobsURI[rec.URI], rec)
				return nil
			}); err != nil {
				return fmt.Errorf("read the journal: %w", err)
			}
		}
		for ep, l := range r.o.Ledgers {
			if err := l.Rows(ctx, prefix, func(row redshift.LedgerRow) error {
				lr := ledgerRow{LedgerRow: row, endpoint: ep}
				r.rows[row.JobID] = lr
				r.rowsURI[row.URI] = append(r.rowsURI[row.URI], lr)
				return nil
			}); err != nil {
				return fmt.Errorf("read the ledger of %s: %w", ep, err)
			}
		}
	}
	r.rep.Ledgers = len(r.o.Ledgers)
	return nil
}

func (r *reconciler) target(name, table string) *TargetReport {
	t := r.targets[name]
	if t == nil {
		t = &TargetReport{Target: name, Missing: []Missing{}, Gone: []Gone{}}
		r.targets[name] = t
		r.tables[name] = map[string]bool{}
	}
	if table != "" {
		r.tables[name][table] = true
	}
	return t
}

// object classifies the jobs of one object in S3.
func (r *reconciler) object(p planned) {
	r.rep.Objects++
	switch {
	case p.unrouted:
		r.rep.Unrouted++
	case p.discarded:
		r.rep.Discarded++
	}
	for _, j := range p.jobs {
		t := r.target(j.Target, destination(j))
		t.InS3++
		if r.loaded(j) {
			t.Loaded++
			continue
		}
		reason, detail := r.why(j)
		t.Missing = append(t.Missing, Missing{URI: j.URI(), Version: j.Version, Table: destination(j), Reason: reason, Detail: detail})
	}
}

// loaded: the ledger has the job, or the journal says it was copied,
// under any id its load may be recorded under (an older rin's, too).
func (r *reconciler) loaded(j journal.Job) bool {
	for _, id := range j.IDs() {
		if _, ok := r.rows[id]; ok {
			return true
		}
		if rec, ok := r.jobs[id]; ok && (rec.State == journal.Copied || rec.State == journal.Acked) {
			return true
		}
	}
	return false
}

// journaled returns the journal's job for j, under any of its ids.
func (r *reconciler) journaled(j journal.Job) (admin.Record, bool) {
	for _, id := range j.IDs() {
		if rec, ok := r.jobs[id]; ok {
			return rec, true
		}
	}
	return admin.Record{}, false
}

// why says why job j of an object in S3 is not loaded.
func (r *reconciler) why(j journal.Job) (reason, detail string) {
	if j.State == journal.Failed {
		return ReasonFailed, "target cannot take it: " + j.LastError
	}
	if rec, ok := r.journaled(j); ok {
		switch rec.State {
		case journal.Failed:
			return ReasonFailed, fmt.Sprintf("%d attempts: %s", rec.Attempts, rec.LastError)
		case journal.Superseded, journal.Removed:
			return ReasonSuperseded, fmt.Sprintf("%s: %s", rec.State, rec.Note)
		case journal.Received:
			if on := fsm.HoldsOn(r.o.Holds, j); len(on) > 0 {
				return ReasonHeld, on[0].Scope + " " + on[0].Name + ": " + on[0].LastError
			}
		}
		if rec.LastError != "" {
			return ReasonPending, fmt.Sprintf("%s, %d attempts; last error: %s", rec.State, rec.Attempts, rec.LastError)
		}
		return ReasonPending, string(rec.State)
	}
	// An earlier version loaded into the same table: the key was
	// overwritten, and no event for the new version reached rin.
	for _, row := range r.rowsURI[j.URI()] {
		other := j
		other.ID, other.Version = journal.JobID(j.Endpoint, j.Schema, j.Table, j.Bucket, j.Key, row.Version), row.Version
		if row.endpoint == j.Endpoint && slices.Contains(other.IDs(), row.JobID) {
			return ReasonSuperseded, fmt.Sprintf("version %s loaded %s; the current version %s was not", row.Version, row.LoadedAt.Format(time.DateTime), j.Version)
		}
	}
	for _, rec := range r.jobsURI[j.URI()] {
		if rec.Endpoint == j.Endpoint && rec.Schema == j.Schema && rec.Table == j.Table && (rec.State == journal.Copied || rec.State == journal.Acked) {
			return ReasonSuperseded, fmt.Sprintf("version %s loaded; the current version %s was not", rec.Version, j.Version)
		}
	}
	return ReasonNoEvent, ""
}

// gone reports loaded objects no longer in S3: ledger rows, and jobs the
// journal says were copied (the ledger may be disabled).
func (r *reconciler) gone() {
	for _, row := range r.rows {
		if r.listed[row.URI] || !r.inRange(row.LoadedAt) {
			continue
		}
		name, table := r.ledgerTarget(row)
		at := row.LoadedAt
		r.addGone(name, Gone{URI: row.URI, Version: row.Version, Table: table, JobID: row.JobID, LoadedAt: &at})
	}
	for _, rec := range r.jobs {
		if r.listed[rec.URI] || (rec.State != journal.Copied && rec.State != journal.Acked) {
			continue
		}
		at := rec.Updated
		if rec.CopiedAt != nil {
			at = *rec.CopiedAt
		}
		if !r.inRange(at) {
			continue
		}
		table := rec.Table
		if rec.Schema != "" {
			table = rec.Schema + "." + rec.Table
		}
		r.addGone(rec.Target, Gone{URI: rec.URI, Version: rec.Version, Table: table, JobID: rec.ID, LoadedAt: &at})
	}
}

func (r *reconciler) addGone(target string, g Gone) {
	if r.reported[g.JobID] {
		return
	}
	r.reported[g.JobID] = true
	t := r.target(target, "")
	t.Gone = append(t.Gone, g)
}

func (r *reconciler) inRange(t time.Time) bool {
	return ListOptions{Since: r.o.Since, Until: r.o.Until}.in(t)
}

// ledgerTarget finds the target and table a ledger row was loaded for by
// routing its object as this config does; a row this config no longer
// makes keeps the target name the ledger recorded.
func (r *reconciler) ledgerTarget(row ledgerRow) (target, table string) {
	if src, err := ParseSource(row.URI); err == nil {
		obj := Object{Bucket: src.Bucket, Key: src.Prefix, VersionID: row.Version}
		for _, p := range plan(r.o.Router, []Object{obj}) {
			for _, j := range p.jobs {
				if slices.Contains(j.IDs(), row.JobID) {
					return j.Target, destination(j)
				}
			}
		}
	}
	return row.Target, ""
}

func (r *reconciler) report() *Report {
	rep := r.rep
	for name, t := range r.targets {
		for tbl := range r.tables[name] {
			t.Tables = append(t.Tables, tbl)
		}
		sort.Strings(t.Tables)
		sort.Slice(t.Missing, func(i, j int) bool { return t.Missing[i].URI < t.Missing[j].URI })
		sort.Slice(t.Gone, func(i, j int) bool { return t.Gone[i].URI < t.Gone[j].URI })
		if t.Tables == nil {
			t.Tables = []string{}
		}
		rep.Missing += len(t.Missing)
		rep.Gone += len(t.Gone)
		rep.Targets = append(rep.Targets, *t)
	}
	sort.Slice(rep.Targets, func(i, j int) bool { return targetLess(rep.Targets[i].Target, rep.Targets[j].Target) })
	if rep.Targets == nil {
		rep.Targets = []TargetReport{}
	}
	return &rep
}
