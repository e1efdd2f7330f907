package admin

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/rinhq/rin/journal"
)

// RejectedFilter selects rejected (poison) messages. The zero filter
// selects every one.
type RejectedFilter struct {
	// Since keeps messages rejected within this long; 0 keeps all.
	Since time.Duration
	// Limit keeps the newest this many; 0 means no limit.
	Limit int
}

// Validate reports a filter no message could sensibly match.
func (f RejectedFilter) Validate() error {
	if f.Since < 0 || f.Limit < 0 {
		return fmt.Errorf("%w: since and limit must not be negative", ErrBadRequest)
	}
	return nil
}

// RejectedRecord is a rejected message as rin-journal prints it and the
// admin API sends it, one JSON object per line. Like Record, its field
// names are a public interface kept apart from the journal's storage.
type RejectedRecord struct {
	ID       string    `json:"id"` // the SQS message id
	Rejected time.Time `json:"rejected"`
	Reason   string    `json:"reason"`
	Body     string    `json:"body"` // whole, as SQS delivered it
}

// NewRejectedRecord converts a journal entry.
func NewRejectedRecord(r journal.Rejected) RejectedRecord {
	return RejectedRecord{ID: r.ID, Rejected: r.Rejected, Reason: r.Reason, Body: r.Body}
}

// Rejected calls fn for the rejected messages the filter selects, newest
// first: people look for what just went wrong, and Limit keeps the most
// recent. The journal keys them by SQS message id, which says nothing of
// time, so they are collected and sorted; with a limit, only about twice
// that many are held at once (bodies can be up to SQS's message size).
//
// fn runs after the read transaction has ended, so a slow caller (the
// server writing to a slow client) holds nothing open in the journal.
func (l *Local) Rejected(ctx context.Context, f RejectedFilter, fn func(RejectedRecord) error) error {
	if err := f.Validate(); err != nil {
		return err
	}
	now := l.now()
	var recs []RejectedRecord
	trim := func() {
		slices.SortFunc(recs, newestFirst)
		if f.Limit > 0 && len(recs) > f.Limit {
			clear(recs[f.Limit:]) // let the dropped bodies go
			recs = recs[:f.Limit]
		}
	}
	err := l.Journal.View(func(tx *journal.Tx) error {
		return tx.ForEachRejected(func(r journal.Rejected) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if f.Since > 0 && now.Sub(r.Rejected) > f.Since {
				return nil
			}
			recs = append(recs, NewRejectedRecord(r))
			if f.Limit > 0 && len(recs) >= 2*f.Limit {
				trim()
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("rejected messages: %w", err)
	}
	trim()
	for _, r := range recs {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func newestFirst(a, b RejectedRecord) int {
	if c := b.Rejected.Compare(a.Rejected); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// countRejected counts the rejected messages. The journal offers no count
// without decoding each entry, so callers that run often (/metrics) should
// not call it on every request.
func countRejected(tx *journal.Tx) (int, error) {
	return tx.CountRejected(), nil
}

// query encodes the filter for the HTTP API.
func (f RejectedFilter) query() url.Values {
	q := url.Values{}
	if f.Since > 0 {
		q.Set("since", f.Since.String())
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	return q
}

// rejectedFilterFromQuery decodes what query encoded.
func rejectedFilterFromQuery(q url.Values) (RejectedFilter, error) {
	var f RejectedFilter
	var err error
	if f.Since, err = durationParam(q, "since"); err != nil {
		return f, err
	}
	if v := q.Get("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil {
			return f, fmt.Errorf("%w: limit %q: %w", ErrBadRequest, v, err)
		}
	}
	return f, f.Validate()
}
