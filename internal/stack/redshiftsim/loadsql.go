package redshiftsim

import (
	"strconv"
	"strings"
)

// loadSQL is a COPY as the backend runs it when the load objects are
// installed: an INSERT of the rows rinsim.copy_rows (sysobjects.go)
// accepts, so the load still is one statement of the client's transaction
// and the command tag still counts the rows loaded.
//
// Why in the backend, in the client's transaction: only the table's own
// types can say whether 'abc' fits a column, and a failed statement aborts
// the client's transaction, so the proxy cannot try an INSERT and fall back.
// Validating over a side connection would cost a round trip per COPY and
// cannot see a table created in the client's uncommitted transaction.
// copy_rows instead converts all records at once and pays per record (in
// subtransactions) only when that fails; the happy path costs one
// function call and no extra round trip.
func loadSQL(spec *copySpec, p *parsed, run *copyRun, session string, pid uint32) string {
	table := qualifiedName(spec.table)
	cols, sel := insertTargets(spec)
	colList := "NULL"
	if len(spec.columns) > 0 {
		colList = textArray(spec.columns)
	}
	var b strings.Builder
	b.Grow(len(p.array) + len(p.array)/8 + 512)
	b.WriteString("INSERT INTO " + table + cols + " SELECT " + sel + " FROM rinsim.copy_rows(NULL::" + table + ", ")
	b.WriteString(quoteLiteral(table) + "::regclass, ")
	b.WriteString(strconv.Itoa(int(run.query)) + ", " + quoteLiteral(session) + ", " + quoteLiteral(run.table) + ", ")
	b.WriteString(colList + ", ")
	if spec.format == formatParquet {
		// Parquet rows are objects keyed by position; columnar_json checks
		// the column counts and names the keys after the table's columns
		// before copy_rows runs.
		b.WriteString("true, rinsim.columnar_json(" + quoteLiteral(table) + "::regclass, " + colList + ", ")
		b.WriteString(quoteLiteral(string(p.array)) + ", " + strconv.FormatBool(spec.fillRecord) + ", ")
		b.WriteString(intArray(p.cols) + ", " + textArray(p.names) + ", " + strconv.Itoa(int(run.query)) + ", " + strconv.FormatUint(uint64(pid), 10) + "), ")
	} else {
		b.WriteString(strconv.FormatBool(spec.format == formatJSON) + ", ")
		b.WriteString(quoteLiteral(string(p.array)) + "::json, ")
	}
	b.WriteString(strconv.FormatBool(spec.fillRecord) + ", ")
	b.WriteString(strconv.Itoa(spec.maxError-len(p.bad)) + ", ")
	pre := make([]int, len(run.files))
	for _, e := range p.bad {
		pre[e.file]++
	}
	b.WriteString(textArray(run.files) + ", " + intArray(p.fileStart) + ", " + intArray(p.lines) + ", " + intArray(pre) + ")")
	return b.String()
}

func textArray(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = quoteLiteral(s)
	}
	return "ARRAY[" + strings.Join(q, ", ") + "]::text[]"
}

func intArray(ns []int) string {
	q := make([]string, len(ns))
	for i, n := range ns {
		q[i] = strconv.Itoa(n)
	}
	return "ARRAY[" + strings.Join(q, ", ") + "]::integer[]"
}
