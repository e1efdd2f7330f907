package main

import (
	"fmt"
	"io"
	"strings"
)

// A doctor check ends in one of these. Only a failure makes rin doctor
// exit non-zero: a warning is a setting that works but risks data or
// time, a skip a check that cannot be made (and says why).
type status int

const (
	statusOK status = iota
	statusWarn
	statusSkip
	statusFail
)

func (s status) String() string {
	return [...]string{"ok", "warn", "skip", "FAIL"}[s]
}

// finding is the outcome of one check: what was checked, what was found
// and, unless it passed, how to fix it.
type finding struct {
	status  status
	check   string // config, aws, queue, bucket, login, table, ledger, manifest, copy
	subject string // what it is about: the queue, a bucket, "targets[1] "s"."t"", ...
	detail  string
	fix     string
}

// report prints findings as they come, so a slow check shows where
// doctor is, and sums them up at the end.
type report struct {
	w        io.Writer
	findings []finding
}

func (r *report) add(f finding) {
	r.findings = append(r.findings, f)
	fmt.Fprintf(r.w, "%-4s  %-8s  %s", f.status, f.check, f.subject)
	if f.detail != "" {
		fmt.Fprintf(r.w, ": %s", f.detail)
	}
	fmt.Fprintln(r.w)
	if f.fix != "" && f.status != statusOK {
		fmt.Fprintf(r.w, "      %-8s  fix: %s\n", "", f.fix)
	}
}

func (r *report) ok(check, subject, detail string) {
	r.add(finding{status: statusOK, check: check, subject: subject, detail: detail})
}

func (r *report) warn(check, subject, detail, fix string) {
	r.add(finding{status: statusWarn, check: check, subject: subject, detail: detail, fix: fix})
}

func (r *report) skip(check, subject, detail string) {
	r.add(finding{status: statusSkip, check: check, subject: subject, detail: detail})
}

func (r *report) fail(check, subject, detail, fix string) {
	r.add(finding{status: statusFail, check: check, subject: subject, detail: detail, fix: fix})
}

// done prints the summary and returns an error naming every failed check
// (the target and table among them), nil when none failed.
func (r *report) done() error {
	var counts [statusFail + 1]int
	var failed []string
	for _, f := range r.findings {
		counts[f.status]++
		if f.status == statusFail {
			failed = append(failed, f.check+" "+f.subject)
		}
	}
	fmt.Fprintf(r.w, "\n%d ok, %d warnings, %d skipped, %d failed\n", counts[statusOK], counts[statusWarn], counts[statusSkip], counts[statusFail])
	if len(failed) == 0 {
		return nil
	}
	return fmt.Errorf("doctor: %d check(s) failed: %s", len(failed), strings.Join(failed, "; "))
}
