package redshiftsim

import "strings"

// Clients query Redshift's load bookkeeping by its system names:
// stl_load_errors and stl_load_commits (tables in pg_catalog, on every
// search_path) and pg_last_copy_id() / pg_last_copy_count() (functions of
// the session). The backend holds them in the rinsim schema, so the proxy
// rewrites those names in every statement it relays, in the simple and the
// extended protocol alike: a table name, bare or qualified with pg_catalog,
// becomes rinsim.<name>, and a call becomes rinsim.<name>('<session>'),
// the session being the proxy's key for the client's session. Names
// qualified with any other schema, and the same words inside strings,
// quoted identifiers or comments, are left alone.

var sysTables = map[string]bool{"stl_load_errors": true, "stl_load_commits": true}

var sysFuncs = map[string]bool{"pg_last_copy_id": true, "pg_last_copy_count": true}

// isSysName reports whether t names one of them (checked for every
// statement, so it looks at the length first).
func isSysName(t token) bool {
	if t.kind != tokWord || len(t.val) < len("pg_last_copy_id") || len(t.val) > len("pg_last_copy_count") {
		return false
	}
	v := strings.ToLower(t.val)
	return sysTables[v] || sysFuncs[v]
}

// hasSysNames reports whether a statement's tokens mention them.
func hasSysNames(toks []token) bool {
	for _, t := range toks {
		if isSysName(t) {
			return true
		}
	}
	return false
}

// rewriteSysNames rewrites the system names in sql (one statement or
// several) for the session.
func rewriteSysNames(sql, session string) string {
	toks := lex(sql)
	var b strings.Builder
	last := 0
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if !isSysName(t) {
			continue
		}
		from := t.pos
		if i > 0 && toks[i-1].kind == tokPunct && toks[i-1].val == "." {
			if i < 2 || !toks[i-2].is("pg_catalog") {
				continue // another schema's object of that name
			}
			from = toks[i-2].pos
		}
		name := strings.ToLower(t.val)
		to, repl := t.end, "rinsim."+name
		if sysFuncs[name] {
			if i+2 >= len(toks) || toks[i+1].val != "(" || toks[i+2].val != ")" ||
				toks[i+1].kind != tokPunct || toks[i+2].kind != tokPunct {
				continue
			}
			to, repl = toks[i+2].end, repl+"("+quoteLiteral(session)+")"
			i += 2
		}
		b.WriteString(sql[last:from])
		b.WriteString(repl)
		last = to
	}
	if last == 0 {
		return sql
	}
	b.WriteString(sql[last:])
	return b.String()
}
