package admin

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rinhq/rin/journal"
)

// Filter selects jobs for Dump. The zero Filter selects every job.
type Filter struct {
	State  journal.State // only jobs in this state (read through the state index)
	Target string        // only jobs of this target ("targets[1]")
	// KeyPrefix keeps jobs whose object key starts with it; a value
	// starting with s3:// is matched against the whole URI instead.
	KeyPrefix string
	// OlderThan and NewerThan bound the job's age: the time since it was
	// journaled (Created). Zero means no bound.
	OlderThan time.Duration
	NewerThan time.Duration
	// Limit stops after this many jobs; 0 means no limit.
	Limit int
}

// Validate reports a filter no job could sensibly match.
func (f Filter) Validate() error {
	if f.State != "" && !f.State.Valid() {
		return fmt.Errorf("%w: unknown state %q (one of %s)", ErrBadRequest, f.State, stateList())
	}
	if f.OlderThan < 0 || f.NewerThan < 0 || f.Limit < 0 {
		return fmt.Errorf("%w: ages and limit must not be negative", ErrBadRequest)
	}
	return nil
}

// Match reports whether j passes the filter at time now.
func (f Filter) Match(j journal.Job, now time.Time) bool {
	switch {
	case f.State != "" && j.State != f.State:
		return false
	case f.Target != "" && j.Target != f.Target:
		return false
	case f.KeyPrefix != "" && strings.HasPrefix(f.KeyPrefix, "s3://") && !strings.HasPrefix(j.URI(), f.KeyPrefix):
		return false
	case f.KeyPrefix != "" && !strings.HasPrefix(f.KeyPrefix, "s3://") && !strings.HasPrefix(j.Key, f.KeyPrefix):
		return false
	case f.OlderThan > 0 && now.Sub(j.Created) < f.OlderThan:
		return false
	case f.NewerThan > 0 && now.Sub(j.Created) > f.NewerThan:
		return false
	}
	return true
}

// query encodes the filter for the HTTP API.
func (f Filter) query() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("state", string(f.State))
	set("target", f.Target)
	set("prefix", f.KeyPrefix)
	if f.OlderThan > 0 {
		q.Set("older_than", f.OlderThan.String())
	}
	if f.NewerThan > 0 {
		q.Set("newer_than", f.NewerThan.String())
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	return q
}

// filterFromQuery decodes what query encoded.
func filterFromQuery(q url.Values) (Filter, error) {
	f := Filter{State: journal.State(q.Get("state")), Target: q.Get("target"), KeyPrefix: q.Get("prefix")}
	var err error
	if f.OlderThan, err = durationParam(q, "older_than"); err != nil {
		return f, err
	}
	if f.NewerThan, err = durationParam(q, "newer_than"); err != nil {
		return f, err
	}
	if v := q.Get("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil {
			return f, fmt.Errorf("%w: limit %q: %w", ErrBadRequest, v, err)
		}
	}
	return f, f.Validate()
}

func durationParam(q url.Values, name string) (time.Duration, error) {
	v := q.Get(name)
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%w: %s %q: %w", ErrBadRequest, name, v, err)
	}
	return d, nil
}

func stateList() string {
	s := make([]string, len(journal.States))
	for i, st := range journal.States {
		s[i] = string(st)
	}
	return strings.Join(s, ", ")
}
