package backfill

import (
	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/journal"
)

// planned is one listed object's jobs, as its event would have made them.
type planned struct {
	obj  Object
	jobs []journal.Job // one per target that loads it; failed when the target cannot
	// discarded: a discard target matched; unrouted: no target did.
	discarded, unrouted bool
}

// plan routes each object through the config exactly as intake routes an
// event's records (fsm.JobFor on config.Route).
func plan(r fsm.Router, objs []Object) []planned {
	out := make([]planned, 0, len(objs))
	for _, o := range objs {
		p := planned{obj: o}
		routes := r.Route(o.Bucket, o.Key)
		p.unrouted = len(routes) == 0
		seen := map[string]bool{}
		for _, rt := range routes {
			if rt.Discard {
				p.discarded = len(p.jobs) == 0
				continue
			}
			if j := fsm.JobFor(rt, o.Record()); !seen[j.ID] {
				seen[j.ID] = true
				p.jobs = append(p.jobs, j)
			}
		}
		out = append(out, p)
	}
	return out
}

// destination names where a job loads, for people: schema.table.
func destination(j journal.Job) string {
	if j.Schema == "" {
		return j.Table
	}
	return j.Schema + "." + j.Table
}
