package redshift

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/journal"
	"github.com/rinhq/rin/sqsx"
)

// Versions is the check, before each COPY, that every object of the batch
// still holds the bytes its event announced. COPY reads a key's current
// bytes, whatever event asked for them: without the check, the event of a
// key's first version, still pending when the key is rewritten, would load
// the second version's bytes, and the second version's own event would
// load them again. See fsm/versions.go for the whole of the rules.
//
// In every mode it keeps one job per key in a batch, the newest by S3's
// sequencer: a manifest never lists one URL twice. With overwrites: load
// (the default) it then checks each object (check): one whose eTag or
// versionId is no longer its event's loads the bytes the key holds, under
// that version's job id; one that is gone is left out as removed.
type Versions struct {
	Next  fsm.Copier
	Store ObjectStore // HEADs, in each bucket's region (a RegionalStore)
	Mode  string      // config.Overwrites*; "" is OverwritesLoad
	// Ledger, when set, reads an endpoint's ledger: a changed object whose
	// job an earlier attempt may have loaded (its COPY's outcome unknown)
	// is asked about, so that it ends loaded rather than removed.
	Ledger func(endpoint string) (*LedgerReader, error)
	// Parallel bounds the HEADs in flight per batch (0: 16).
	Parallel int

	denied *listDenied // buckets rin may not list (NewVersions)
}

var _ fsm.Copier = Versions{}

// Copy implements fsm.Copier.
func (v Versions) Copy(ctx context.Context, b fsm.Batch) (fsm.Result, error) {
	keep, superseded := newestPerKey(b.Jobs)
	removed, notes := map[string]string{}, map[string]string{}
	remap := map[string][]string{} // id a changed object is loaded under → the jobs' own ids
	if v.Mode == "" || v.Mode == config.OverwritesLoad {
		var err error
		if keep, err = v.check(ctx, keep, superseded, removed, notes, remap); err != nil {
			return fsm.Result{}, err
		}
	}
	loaded, err := v.loadedBefore(ctx, b, superseded, removed)
	if err != nil {
		return fsm.Result{}, err
	}
	res := fsm.Result{Skipped: map[string]bool{}}
	if len(keep) > 0 {
		b.Jobs = keep
		if res, err = v.Next.Copy(ctx, b); err != nil {
			return res, err
		}
		if res.Skipped == nil {
			res.Skipped = map[string]bool{}
		}
	}
	for as, own := range remap {
		for _, id := range own {
			if res.Skipped[as] {
				res.Skipped[id] = true
			}
			if n, ok := res.RowsSkipped[as]; ok {
				res.RowsSkipped[id] = n
			}
		}
	}
	for id := range loaded {
		res.Skipped[id] = true
		delete(superseded, id)
		delete(removed, id)
	}
	res.Superseded, res.Removed, res.Notes = superseded, removed, notes
	return res, nil
}

// newestPerKey keeps, of the jobs naming one object, the newest: the
// greatest sequencer, else the latest event time, else the first. The
// others are returned as superseded with a note.
func newestPerKey(jobs []journal.Job) (keep []journal.Job, superseded map[string]string) {
	superseded = map[string]string{}
	best := map[string]int{} // URI → index in keep
	for _, j := range jobs {
		i, dup := best[j.URI()]
		if !dup {
			best[j.URI()] = len(keep)
			keep = append(keep, j)
			continue
		}
		old := keep[i]
		if newer(j, old) {
			keep[i] = j
			old, j = j, old
		}
		superseded[j.ID] = fmt.Sprintf("a newer event of the same object (job %s) was in the same batch", old.ID)
	}
	if len(superseded) == 0 {
		return jobs, superseded
	}
	return keep, superseded
}

// newer reports whether a's event is newer than b's (same key).
func newer(a, b journal.Job) bool {
	if a.Sequencer != "" && b.Sequencer != "" {
		return sqsx.CompareSequencers(a.Sequencer, b.Sequencer) > 0
	}
	return a.EventTime.After(b.EventTime)
}

// verdict is what the check found of one job's object.
type verdict struct {
	state journal.State // Received: load it; "": not judged
	note  string
	size  int64
	err   error
	// changed: the key holds other bytes than the event's, these.
	changed         bool
	etag, versionID string
}

// check returns the jobs to load and adds the others to removed (their
// object is gone). A job whose object holds other bytes than its event
// announced — the key was rewritten since, or the event's eTag was never
// the object's — loads the bytes the key holds now, under the id of the
// version they are (remap, notes): the COPY's ledger check then skips them
// if that version loaded already, and that version's own event finds them
// loaded. So each version's bytes load once, whichever event comes first.
// Jobs whose event named no eTag or version cannot be checked and load.
//
// Objects of unversioned jobs are judged from a listing of their key range
// where the store can list (one request per 1,000 keys instead of a HEAD
// each: listed); the rest, and versioned jobs (the listing has no
// versionIds), by a HEAD each. A request that fails for another reason
// than the object's absence fails the batch, scoped as rin's own S3 calls
// are (access → the bucket is held).
func (v Versions) check(ctx context.Context, jobs []journal.Job, superseded, removed, notes map[string]string, remap map[string][]string) ([]journal.Job, error) {
	out := make([]verdict, len(jobs))
	if err := v.listed(ctx, jobs, out); err != nil {
		return nil, err
	}
	if err := v.headAll(ctx, jobs, out); err != nil {
		return nil, err
	}
	var keep []journal.Job
	for i, j := range jobs {
		vd := out[i]
		switch {
		case vd.state == journal.Superseded:
			superseded[j.ID] = vd.note
		case vd.state == journal.Removed:
			removed[j.ID] = vd.note
		case vd.changed:
			as := j
			as.ETag, as.Version = vd.etag, vd.etag
			if hasVersionID(j) && vd.versionID != "" {
				as.Version = vd.versionID
			}
			as.ID = journal.JobID(j.Endpoint, j.Schema, j.Table, j.Bucket, j.Key, as.Version)
			as.Size = vd.size
			remap[as.ID] = append(remap[as.ID], j.ID)
			notes[j.ID] = fmt.Sprintf("%s; loaded as that version (job %s), so its own event loads nothing again", vd.note, as.ID)
			keep = append(keep, as)
		default:
			if j.Size == 0 {
				j.Size = vd.size
			}
			keep = append(keep, j)
		}
	}
	return keep, nil
}

// headAll judges by a HEAD each job that out has not judged yet.
func (v Versions) headAll(ctx context.Context, jobs []journal.Job, out []verdict) error {
	var todo []int
	for i := range jobs {
		if out[i].state == "" {
			todo = append(todo, i)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	par := v.Parallel
	if par <= 0 {
		par = 16
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(par, len(todo)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				vd, err := v.head(ctx, jobs[i])
				vd.err = err
				out[i] = vd
				if err != nil {
					cancel()
				}
			}
		}()
	}
feed:
	for _, i := range todo {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	for _, i := range todo {
		if out[i].err != nil {
			return out[i].err
		}
	}
	for _, i := range todo {
		if out[i].state == "" { // not asked: the batch's context ended
			return context.Cause(ctx)
		}
	}
	return nil
}

// head judges one job by a HEAD of its object.
func (v Versions) head(ctx context.Context, j journal.Job) (verdict, error) {
	if j.ETag == "" && !hasVersionID(j) {
		return verdict{state: journal.Received}, nil
	}
	out, err := v.Store.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(j.Bucket), Key: aws.String(j.Key)})
	if err != nil {
		if notFound(err) {
			return verdict{state: journal.Removed, note: "the object was deleted before its COPY (HEAD: 404 Not Found)"}, nil
		}
		return verdict{}, s3Fault(fmt.Errorf("check %s before its COPY (HEAD; rin needs s3:GetObject, or set overwrites: unchecked): %w", j.URI(), err))
	}
	return judge(j, strings.Trim(aws.ToString(out.ETag), `"`), aws.ToString(out.VersionId), aws.ToInt64(out.ContentLength), out.LastModified), nil
}

// notFound reports a HEAD's 404: no such key, or a delete marker on top.
func notFound(err error) bool {
	var nf *types.NotFound
	var nk *types.NoSuchKey
	if errors.As(err, &nf) || errors.As(err, &nk) {
		return true
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && (ae.ErrorCode() == "NotFound" || ae.ErrorCode() == "NoSuchKey")
}

// loadedBefore asks the ledger about changed or removed jobs that an
// earlier attempt may have loaded: their COPY may have committed with the
// old bytes before the key changed.
func (v Versions) loadedBefore(ctx context.Context, b fsm.Batch, superseded, removed map[string]string) (map[string]bool, error) {
	if v.Ledger == nil {
		return nil, nil
	}
	var ask []journal.Job
	for _, j := range b.Jobs {
		_, s := superseded[j.ID]
		_, r := removed[j.ID]
		if (s || r) && j.Attempts > 1 {
			ask = append(ask, j)
		}
	}
	if len(ask) == 0 {
		return nil, nil
	}
	l, err := v.Ledger(b.Dest.Endpoint)
	if errors.Is(err, ErrNoLedger) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	got, err := l.LoadedJobs(ctx, ask)
	if err != nil {
		return nil, ledgerFault(fmt.Errorf("ask the ledger about %d changed objects: %w", len(ask), err))
	}
	return got, nil
}
