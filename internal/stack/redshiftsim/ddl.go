package redshiftsim

import "strings"

// Redshift's CREATE TABLE takes physical-design clauses PostgreSQL does not
// know: a column's compression (ENCODE zstd), the distribution (DISTSTYLE
// KEY|EVEN|ALL|AUTO, DISTKEY (col) or a column's DISTKEY), the sort key
// ([COMPOUND|INTERLEAVED] SORTKEY (cols), SORTKEY AUTO, a column's SORTKEY)
// and BACKUP YES|NO. The proxy cuts them out before the backend sees the
// statement, and turns a sort key into a B-tree index on its columns:
// Redshift has no indexes, but on a sorted table the zone maps let a
// lookup by the sort key read a block or two per slice, which an index
// approximates, so a table that relies on its sort key keeps its lookup
// cost in the simulator too (and one that lacks it does not).
//
// With a sort key the statement becomes a DO block that creates the table
// and its index together; CREATE TABLE IF NOT EXISTS creates neither when
// the table exists.

// isRedshiftDDL reports a CREATE TABLE with clauses to cut.
func isRedshiftDDL(toks []token) bool {
	if len(toks) < 3 || !toks[0].is("CREATE") {
		return false
	}
	table := false
	for _, t := range toks {
		if t.is("TABLE") {
			table = true
		}
		if table && t.kind == tokWord {
			switch strings.ToUpper(t.val) {
			case "ENCODE", "DISTSTYLE", "DISTKEY", "SORTKEY", "BACKUP":
				return true
			}
		}
	}
	return false
}

// rewriteDDL returns the statement of toks (positions in sql) without the
// Redshift clauses, as PostgreSQL runs it.
func rewriteDDL(sql string, toks []token) string {
	var cut [][2]int // token index ranges [from, to) to drop
	var sortCols []string
	name, ifNotExists, nameEnd := ddlTable(toks)
	depth := 0
	colStart := -1 // index of the current column definition's first token
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.kind == tokPunct {
			switch t.val {
			case "(":
				depth++
				if depth == 1 && i > nameEnd {
					colStart = i + 1
				}
			case ")":
				depth--
			case ",":
				if depth == 1 {
					colStart = i + 1
				}
			}
			continue
		}
		if t.kind != tokWord || i <= nameEnd {
			continue
		}
		switch strings.ToUpper(t.val) {
		case "ENCODE", "DISTSTYLE", "BACKUP":
			cut = append(cut, [2]int{i, min(i+2, len(toks))})
			i++
		case "COMPOUND", "INTERLEAVED":
			if i+1 < len(toks) && toks[i+1].is("SORTKEY") {
				end, cols := parenList(toks, i+2)
				sortCols = append(sortCols, cols...)
				cut = append(cut, [2]int{i, end})
				i = end - 1
			}
		case "SORTKEY", "DISTKEY":
			sort := t.is("SORTKEY")
			switch {
			case i+1 < len(toks) && toks[i+1].kind == tokPunct && toks[i+1].val == "(":
				end, cols := parenList(toks, i+1)
				if sort {
					sortCols = append(sortCols, cols...)
				}
				cut = append(cut, [2]int{i, end})
				i = end - 1
			case i+1 < len(toks) && toks[i+1].is("AUTO"):
				cut = append(cut, [2]int{i, i + 2})
				i++
			default: // a column attribute
				if sort && depth == 1 && colStart >= 0 && colStart < len(toks) {
					sortCols = append(sortCols, identOf(toks[colStart]))
				}
				cut = append(cut, [2]int{i, i + 1})
			}
		}
	}
	var b strings.Builder
	from := toks[0].pos
	for _, c := range cut {
		b.WriteString(sql[from:toks[c[0]].pos])
		from = toks[c[1]-1].end
	}
	b.WriteString(sql[from:toks[len(toks)-1].end])
	stmt := b.String()
	if len(sortCols) == 0 || name == "" || strings.Contains(stmt, "$rinsim_ddl$") {
		return stmt
	}
	quoted := make([]string, len(sortCols))
	for i, c := range sortCols {
		quoted[i] = quoteIdent(c)
	}
	index := "CREATE INDEX ON " + name + " (" + strings.Join(quoted, ", ") + ")"
	body := stmt + "; " + index + ";"
	if ifNotExists {
		body = "IF to_regclass(" + quoteLiteral(name) + ") IS NULL THEN " + body + " END IF;"
	}
	return "DO $rinsim_ddl$ BEGIN " + body + " END $rinsim_ddl$"
}

// ddlTable finds the created table's name (quoted for the backend),
// whether IF NOT EXISTS was given, and the index of the name's last token.
func ddlTable(toks []token) (name string, ifNotExists bool, end int) {
	i := 0
	for i < len(toks) && !toks[i].is("TABLE") {
		i++
	}
	i++
	if i+2 < len(toks) && toks[i].is("IF") && toks[i+1].is("NOT") && toks[i+2].is("EXISTS") {
		ifNotExists = true
		i += 3
	}
	var parts []string
	for ; i < len(toks); i += 2 {
		if toks[i].kind != tokWord && toks[i].kind != tokQuotedIdent {
			return "", ifNotExists, i
		}
		parts = append(parts, identOf(toks[i]))
		if i+1 >= len(toks) || toks[i+1].kind != tokPunct || toks[i+1].val != "." {
			break
		}
	}
	if len(parts) == 0 {
		return "", ifNotExists, i
	}
	return qualifiedName(parts), ifNotExists, i
}

// parenList reads "(a, b, ...)" starting at the "(" at toks[i] and returns
// the index after ")" and the names.
func parenList(toks []token, i int) (int, []string) {
	if i >= len(toks) || toks[i].kind != tokPunct || toks[i].val != "(" {
		return i, nil
	}
	var cols []string
	for j := i + 1; j < len(toks); j++ {
		t := toks[j]
		switch {
		case t.kind == tokPunct && t.val == ")":
			return j + 1, cols
		case t.kind == tokWord || t.kind == tokQuotedIdent:
			cols = append(cols, identOf(t))
		}
	}
	return len(toks), cols
}

// identOf is the name a word or quoted identifier stands for: unquoted
// names fold to lower case.
func identOf(t token) string {
	if t.kind == tokQuotedIdent {
		return t.val
	}
	return strings.ToLower(t.val)
}

// rewriteDDLQuery is rewriteDDL for a Parse message's single statement.
func rewriteDDLQuery(sql string) string {
	for _, seg := range splitStatements(sql) {
		if len(seg.toks) > 0 {
			return rewriteDDL(sql, seg.toks)
		}
	}
	return sql
}
