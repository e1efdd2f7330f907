package redshiftsim

import "strings"

// Serializable mode (serial.go) needs the tables each statement reads and
// writes, in Redshift's terms: COPY and INSERT are pure writes of their
// table, DELETE and UPDATE read and write theirs, and every table a
// statement selects from (FROM, JOIN, USING) is read. The names are taken
// from the statement's tokens, before any rewriting: a COPY's table is its
// target, not the INSERT the proxy turns it into. System and catalog
// tables (pg_catalog, information_schema, Redshift's stl_/stv_/svl_/svv_
// and the simulator's rinsim) take no part, as in Redshift. Tables read
// inside functions or views are not seen.

// tableRef names a table as a statement wrote it: the schema is "" when
// unqualified (then it matches that table in any schema: the proxy does not
// resolve search_path). Names are folded to lower case unless quoted, as
// Redshift does.
type tableRef struct{ schema, table string }

func (a tableRef) String() string {
	if a.schema == "" {
		return a.table
	}
	return a.schema + "." + a.table
}

// same reports whether a and b may be the same table.
func (a tableRef) same(b tableRef) bool {
	return a.table == b.table && (a.schema == b.schema || a.schema == "" || b.schema == "")
}

// tableAccess is what one statement reads and writes.
type tableAccess struct {
	reads, writes []tableRef
}

func (a tableAccess) empty() bool { return len(a.reads) == 0 && len(a.writes) == 0 }

// accessOf finds the tables a statement reads and writes.
func accessOf(toks []token, info stmtInfo) tableAccess {
	var a tableAccess
	if len(toks) == 0 {
		return a
	}
	if info.isCopy {
		if info.copy != nil && len(info.copy.table) > 0 {
			t := info.copy.table
			ref := tableRef{table: t[len(t)-1]}
			if len(t) > 1 {
				ref.schema = t[len(t)-2]
			}
			a.writes = append(a.writes, ref)
		}
		return a
	}
	switch strings.ToUpper(toks[0].val) {
	case "SELECT", "WITH", "INSERT", "UPDATE", "DELETE", "MERGE", "VALUES", "TABLE", "EXPLAIN":
	default:
		return a // LOCK, SET, DDL, transaction control: no data
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.kind != tokWord {
			continue
		}
		var ref tableRef
		var ok bool
		switch {
		case t.is("INTO") && i > 0 && (toks[i-1].is("INSERT") || toks[i-1].is("MERGE")):
			if ref, ok = refAtIn(toks, i+1, false); ok {
				a.writes = append(a.writes, ref)
			}
		case t.is("UPDATE") && (i == 0 || !toks[i-1].is("FOR")),
			t.is("FROM") && i > 0 && toks[i-1].is("DELETE"):
			if ref, ok = refAt(toks, i+1); ok {
				a.writes = append(a.writes, ref)
				a.reads = append(a.reads, ref)
			}
		case t.is("FROM"), t.is("JOIN"), t.is("USING"):
			// A list of tables may follow FROM: a, b c, d.
			for j := i + 1; j < len(toks); {
				ref, ok = refAt(toks, j)
				if !ok {
					break
				}
				a.reads = append(a.reads, ref)
				j = skipRef(toks, j)
				if j >= len(toks) || toks[j].kind != tokPunct || toks[j].val != "," {
					break
				}
				j++
			}
		}
	}
	return a
}

// refAt reads a table name starting at toks[i] (after an optional ONLY):
// name, schema.name or db.schema.name, not followed by "(" (a function)
// and not a subquery.
func refAt(toks []token, i int) (tableRef, bool) { return refAtIn(toks, i, true) }

// refAtIn is refAt; calls says whether "(" after the name makes it a
// function (not after INSERT INTO, where a column list follows).
func refAtIn(toks []token, i int, calls bool) (tableRef, bool) {
	if i < len(toks) && toks[i].is("ONLY") {
		i++
	}
	var parts []string
	for j := i; j < len(toks); j += 2 {
		t := toks[j]
		switch {
		case t.kind == tokWord && !isClauseWord(t):
			parts = append(parts, strings.ToLower(t.val))
		case t.kind == tokQuotedIdent:
			parts = append(parts, t.val)
		default:
			return tableRef{}, false
		}
		next := j + 1
		if calls && next < len(toks) && toks[next].kind == tokPunct && toks[next].val == "(" {
			return tableRef{}, false // a function call
		}
		if next >= len(toks) || toks[next].kind != tokPunct || toks[next].val != "." {
			break
		}
	}
	if len(parts) == 0 {
		return tableRef{}, false
	}
	ref := tableRef{table: parts[len(parts)-1]}
	if len(parts) > 1 {
		ref.schema = parts[len(parts)-2]
	}
	if isSystemTable(ref) {
		return tableRef{}, false
	}
	return ref, true
}

// skipRef returns the index after the table name starting at toks[i], and
// after its alias if any.
func skipRef(toks []token, i int) int {
	if i < len(toks) && toks[i].is("ONLY") {
		i++
	}
	for i+2 < len(toks) && toks[i+1].kind == tokPunct && toks[i+1].val == "." {
		i += 2
	}
	i++
	if i < len(toks) && toks[i].is("AS") {
		i++
	}
	if i < len(toks) && (toks[i].kind == tokQuotedIdent || toks[i].kind == tokWord && !isClauseWord(toks[i])) {
		i++
	}
	return i
}

// clauseWords end a table list or are not table names.
var clauseWords = map[string]bool{
	"WHERE": true, "GROUP": true, "ORDER": true, "LIMIT": true, "OFFSET": true, "HAVING": true,
	"UNION": true, "EXCEPT": true, "INTERSECT": true, "JOIN": true, "INNER": true, "LEFT": true,
	"RIGHT": true, "FULL": true, "CROSS": true, "NATURAL": true, "ON": true, "SET": true,
	"VALUES": true, "SELECT": true, "RETURNING": true, "USING": true, "WINDOW": true, "LATERAL": true,
	"FOR": true, "DEFAULT": true, "OVERRIDING": true, "WHEN": true, "AS": true, "FROM": true,
}

func isClauseWord(t token) bool { return t.kind == tokWord && clauseWords[strings.ToUpper(t.val)] }

// isSystemTable reports catalog and system tables, which Redshift leaves
// out of serialization.
func isSystemTable(r tableRef) bool {
	switch r.schema {
	case "pg_catalog", "information_schema", "rinsim":
		return true
	}
	for _, p := range []string{"pg_", "stl_", "stv_", "svl_", "svv_", "sys_"} {
		if strings.HasPrefix(r.table, p) {
			return true
		}
	}
	return false
}
