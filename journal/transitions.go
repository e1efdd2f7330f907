package journal

import (
	"errors"
	"fmt"
)

// ErrBadTransition: a write would move a job along an edge its state
// machine does not have (say, acked back to copying). It is a bug in the
// caller, caught before it reaches the disk.
var ErrBadTransition = errors.New("job state transition not allowed")

// transitions is the job state machine, in one place: for each state, the
// states a job in it may be written with next. Staying in a state (a retry
// that updates attempts and the last error) is always allowed.
//
//	received → copying → copied → acked
//	   ↑  ↘       ↓ ↘
//	   └─ failed ←┘  superseded, removed
//
// copying → received is an attempt that failed for a reason that is not
// the object's, or a restart (the ledger then decides whether it had
// committed); failed → received is a person's requeue. Superseded and
// removed are ended like acked: nothing moves a job out of them.
var transitions = map[State][]State{
	Received:   {Copying, Failed, Superseded, Removed},
	Copying:    {Received, Copied, Failed, Superseded, Removed},
	Copied:     {Acked},
	Acked:      nil,
	Failed:     {Received},
	Superseded: nil,
	Removed:    nil,
}

// initial lists the states a job may have when it is first written: new
// work, a job that cannot be loaded at all (its route is broken), one that
// is superseded on arrival (an older event of a key whose newer version was
// seen), and — for jobs carried over from an older journal by the upgrade —
// any state (migrate.go writes those without this check).
var initial = []State{Received, Failed, Superseded, Removed}

// checkTransition returns ErrBadTransition unless a job of id may move from
// prev to next. prev is "" for a job's first write.
func checkTransition(id string, prev, next State) error {
	if prev == next {
		return nil
	}
	allowed := initial
	if prev != "" {
		allowed = transitions[prev]
	}
	for _, s := range allowed {
		if s == next {
			return nil
		}
	}
	from := string(prev)
	if from == "" {
		from = "(new)"
	}
	return fmt.Errorf("job %s: %w: %s → %s", id, ErrBadTransition, from, next)
}

// PathTo lists the states a new job passes through to reach s, ending with
// s: the shortest walk of the state machine from a first write. Tools and
// tests that set a job up in some state write it once per step.
func PathTo(s State) []State {
	prev := map[State]State{}
	var queue []State
	for _, st := range initial {
		if st == s {
			return []State{s}
		}
		prev[st] = ""
		queue = append(queue, st)
	}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, next := range transitions[cur] {
			if _, seen := prev[next]; seen {
				continue
			}
			prev[next] = cur
			if next == s {
				var path []State
				for st := s; st != ""; st = prev[st] {
					path = append([]State{st}, path...)
				}
				return path
			}
			queue = append(queue, next)
		}
	}
	return nil
}

// PutJobVia writes job after walking it, from its stored state (or from
// new), along the shortest path of the state machine to job.State: a
// tool's or test's way of placing a job in any state without bypassing
// the transition check. The intermediate writes carry the job's fields.
func (t *Tx) PutJobVia(job Job) error {
	from := State("")
	if old, err := t.Job(job.ID); err == nil {
		from = old.State
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	if from == job.State || checkTransition(job.ID, from, job.State) == nil {
		return t.PutJob(job)
	}
	if from != "" {
		return checkTransition(job.ID, from, job.State)
	}
	for _, s := range PathTo(job.State) {
		step := job
		step.State = s
		if err := t.PutJob(step); err != nil {
			return err
		}
	}
	return nil
}
