package journal

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

// A failing Update in a group commit gets its own error and does not take
// the others of its group down; every other Update is durable.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	j, _ := open(t)
	boom := errors.New("boom")
	var wg sync.WaitGroup
	errs := make([]error, 64)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = j.Update(func(tx *Tx) error {
				if err := tx.PutJob(testJob(fmt.Sprintf("j%02d", i), Received)); err != nil {
					return err
				}
				switch i % 16 {
				case 3:
					return boom
				case 7:
					panic("bad call")
				}
				return nil
			})
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		_, getErr := jobIn(j, fmt.Sprintf("j%02d", i))
		switch i % 16 {
		case 3:
			if !errors.Is(err, boom) || getErr == nil {
				t.Errorf("call %d: err %v, job stored: %v; want boom and no job", i, err, getErr == nil)
			}
		case 7:
			if err == nil || getErr == nil {
				t.Errorf("call %d: panic not reported (err %v) or job stored", i, err)
			}
		default:
			if err != nil || getErr != nil {
				t.Errorf("call %d: err %v, read back: %v", i, err, getErr)
			}
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := j.Update(func(*Tx) error { return nil }); err == nil {
		t.Error("Update after Close succeeded")
	}
}

func jobIn(j *Journal, id string) (Job, error) {
	var job Job
	err := j.View(func(tx *Tx) error {
		var err error
		job, err = tx.Job(id)
		return err
	})
	return job, err
}
