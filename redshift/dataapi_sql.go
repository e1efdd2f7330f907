package redshift

import (
	"strconv"
	"strings"
	"time"

	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/journal"
)

// Limits of one Data API request (see the Data API's documented quotas).
// A batch that would exceed them is loaded in parts.
const (
	dataAPIMaxSQL        = 100 * 1024 // bytes of one SQL statement
	dataAPIMaxStatements = 40         // statements of one BatchExecuteStatement
	ledgerInsertBytes    = 64 * 1024  // target size of one ledger INSERT
)

// batchPlan is the statements of one load, in order, with what each is
// (for error messages that must not quote SQL holding credentials).
type batchPlan struct {
	sqls     []string
	redacted []string // sqls with the COPY credentials masked, for logs
	kinds    []string
	guard    int   // index of the ledger guard, -1 without a ledger
	lock     int   // index of the LOCK (the table's guard), -1 without a ledger
	copies   []int // indexes of the COPYs
}

func (p *batchPlan) add(sql, redacted, kind string) int {
	p.sqls = append(p.sqls, sql)
	p.redacted = append(p.redacted, redacted)
	p.kinds = append(p.kinds, kind)
	return len(p.sqls) - 1
}

// fits reports whether the plan is one valid BatchExecuteStatement.
func (p *batchPlan) fits() bool {
	if len(p.sqls) > dataAPIMaxStatements {
		return false
	}
	for _, s := range p.sqls {
		if len(s) > dataAPIMaxSQL {
			return false
		}
	}
	return true
}

// plan builds the batch loading todo: the session's statement_timeout
// for the lock's wait, LOCK on the table's ledger (the guard), the
// statement_timeout of the COPY, the ledger rows, the guard statement, then
// the COPYs; without a ledger only the COPY's timeout and the COPYs. from is
// the manifest's URI, or "" for one prefix COPY per job. Every value is
// quoted with quoteLiteral: keys and targets are data, never SQL.
func (c *DataAPICopier) plan(b fsm.Batch, todo []journal.Job, from, creds string, now time.Time) batchPlan {
	p := batchPlan{guard: -1, lock: -1}
	timeout := func(d time.Duration) {
		set := "SET statement_timeout TO " + strconv.FormatInt(max(d.Milliseconds(), 1), 10)
		p.add(set, set, "SET statement_timeout")
	}
	if !c.opts.Ledger.Disabled {
		name := c.ledger.name(b.Dest.Schema, b.Dest.Table)
		timeout(c.timeouts.Lock)
		lock := "LOCK " + name
		p.lock = p.add(lock, lock, "LOCK ledger")
		timeout(c.timeouts.Copy)
		for _, ins := range c.ledgerInserts(name, b.ID, todo, now) {
			p.add(ins, ins, "INSERT ledger")
		}
		g := c.guardSQL(name, todo)
		p.guard = p.add(g, g, "ledger guard")
	} else {
		timeout(c.timeouts.Copy)
	}
	base := copyStatement{
		table: tableName(b.Dest.Schema, b.Dest.Table), creds: creds,
		region: b.Dest.Region, sqlOption: b.Dest.SQLOption,
	}
	if from != "" {
		s := base
		s.from, s.manifest = from, true
		p.copies = append(p.copies, p.add(s.SQL(), s.Redacted(), "COPY"))
	} else {
		for _, j := range todo {
			s := base
			s.from = j.URI()
			p.copies = append(p.copies, p.add(s.SQL(), s.Redacted(), "COPY"))
		}
	}
	return p
}

// ledgerInserts are the ledger rows of todo, in INSERTs of bounded size.
func (c *DataAPICopier) ledgerInserts(name, batchID string, todo []journal.Job, now time.Time) []string {
	head := "INSERT INTO " + name + " (job_id, batch_id, target, s3_uri, object_version, row_count, loaded_at) VALUES "
	ts := quoteLiteral(now.UTC().Format("2006-01-02 15:04:05.000000"))
	var out []string
	var sb strings.Builder
	for _, j := range todo {
		row := "(" + strings.Join([]string{
			quoteLiteral(j.ID), quoteLiteral(batchID), quoteLiteral(j.Target),
			quoteLiteral(j.URI()), quoteLiteral(j.Version), "NULL", ts,
		}, ",") + ")"
		if sb.Len() > 0 && sb.Len()+len(row) > ledgerInsertBytes {
			out = append(out, sb.String())
			sb.Reset()
		}
		if sb.Len() == 0 {
			sb.WriteString(head)
		} else {
			sb.WriteString(",")
		}
		sb.WriteString(row)
	}
	return append(out, sb.String())
}

// guardSQL fails with a division by zero, aborting the batch's
// transaction, when ledger table name holds more rows under todo's ids
// (every id of each job, journal.Job.IDs) than the batch has just
// inserted, one per job: another loader committed one of them after the
// ledger was read.
func (c *DataAPICopier) guardSQL(name string, todo []journal.Job) string {
	var ids []string
	seen := map[string]bool{}
	for _, j := range todo {
		for _, id := range j.IDs() {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, quoteLiteral(id))
			}
		}
	}
	return "SELECT 1/(CASE WHEN (SELECT count(*) FROM " + name + " WHERE job_id IN (" +
		strings.Join(ids, ",") + ")) > " + strconv.Itoa(len(todo)) + " THEN 0 ELSE 1 END) AS rin_ledger_guard"
}
