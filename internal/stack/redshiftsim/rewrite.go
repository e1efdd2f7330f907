package redshiftsim

import (
	"fmt"
	"regexp"
	"strings"
)

// The backend only ever sees plain PostgreSQL. A Redshift COPY becomes an
// INSERT that carries the data inline, and a simulated failure becomes a DO
// block that raises it, so both run inside the client's own session and
// transaction. Everything that ends up in that SQL (identifiers, S3 keys,
// data, error messages) is attacker-controlled in the tests, so it is only
// ever emitted through quoteIdent and quoteLiteral.

// quoteIdent quotes a PostgreSQL identifier.
func quoteIdent(s string) string {
	s = strings.ReplaceAll(s, "\x00", "")
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// quoteLiteral renders s as an escape-string literal (E'...'). Backslash,
// quote and '$' are escaped, and control characters are hex-escaped, so the
// literal is safe in any context, including inside a dollar-quoted DO body,
// and independent of standard_conforming_strings.
func quoteLiteral(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 3)
	b.WriteString("E'")
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\'':
			b.WriteString(`\'`)
		case c == '$':
			b.WriteString(`\x24`)
		case c == 0:
			// PostgreSQL text cannot hold NUL; dropping it keeps the
			// statement well-formed (a real load would reject the row).
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

var sqlstateRe = regexp.MustCompile(`^[0-9A-Z]{5}$`)

// raiseSQL returns a statement that fails with the given SQLSTATE and
// message when the backend executes it.
func raiseSQL(code, msg string) string {
	return raiseErr(&pgError{Code: code, Message: msg})
}

// raiseErr renders err as a raising statement (with its DETAIL, if any);
// errors without a SQLSTATE are internal errors.
func raiseErr(err error) string {
	pe, ok := err.(*pgError)
	if !ok {
		pe = &pgError{Code: "XX000", Message: err.Error()}
	}
	code := pe.Code
	if !sqlstateRe.MatchString(code) || strings.HasPrefix(code, "00") {
		code = "XX000"
	}
	sql := "DO $rinsim$ BEGIN RAISE EXCEPTION USING ERRCODE = " + quoteLiteral(code) +
		", MESSAGE = " + quoteLiteral(strings.ToValidUTF8(pe.Message, "?"))
	if pe.Detail != "" {
		sql += ", DETAIL = " + quoteLiteral(strings.ToValidUTF8(pe.Detail, "?"))
	}
	return sql + "; END $rinsim$"
}

func qualifiedName(parts []string) string {
	q := make([]string, len(parts))
	for i, p := range parts {
		q[i] = quoteIdent(p)
	}
	return strings.Join(q, ".")
}

// insertTargets returns the INSERT column list and the matching SELECT list.
func insertTargets(spec *copySpec) (cols, sel string) {
	if len(spec.columns) == 0 {
		return "", "*"
	}
	q := make([]string, len(spec.columns))
	for i, c := range spec.columns {
		q[i] = quoteIdent(c)
	}
	list := strings.Join(q, ", ")
	return " (" + list + ")", list
}

// jsonInsertSQL loads a JSON array of objects: json_populate_recordset maps
// keys to columns by exact name, leaves missing ones NULL and converts each
// value with the column type's input function.
func jsonInsertSQL(spec *copySpec, array []byte) string {
	table := qualifiedName(spec.table)
	cols, sel := insertTargets(spec)
	return "INSERT INTO " + table + cols + " SELECT " + sel +
		" FROM json_populate_recordset(NULL::" + table + ", " + quoteLiteral(string(array)) + ")"
}

// rowsInsertSQL loads parsed delimited rows positionally. Zero rows still
// yield an INSERT (of nothing) so the client sees a normal completion.
func rowsInsertSQL(spec *copySpec, rows [][]field) (string, error) {
	table := qualifiedName(spec.table)
	cols, _ := insertTargets(spec)
	if len(rows) == 0 {
		return rowsInsertSQLEmpty(spec), nil
	}
	width := 0
	for _, r := range rows {
		width = max(width, len(r))
	}
	if len(spec.columns) > 0 && spec.fillRecord {
		width = max(width, len(spec.columns))
	}
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + cols + " VALUES ")
	for i, r := range rows {
		if len(r) != width && !spec.fillRecord {
			return "", errInternal("Load into table '%s' failed: record %d has %d fields, expected %d (Delimiter not found or Extra column(s) found)",
				spec.table[len(spec.table)-1], i+1, len(r), width)
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j := 0; j < width; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			if j >= len(r) || r[j].null {
				b.WriteString("NULL")
			} else {
				b.WriteString(quoteLiteral(r[j].s))
			}
		}
		b.WriteByte(')')
	}
	return b.String(), nil
}

// rowsInsertSQLEmpty is an INSERT of nothing: the client still sees a
// normal completion with zero rows.
func rowsInsertSQLEmpty(spec *copySpec) string {
	table := qualifiedName(spec.table)
	cols, sel := insertTargets(spec)
	return "INSERT INTO " + table + cols + " SELECT " + sel + " FROM " + table + " WHERE false"
}

// stmtInfo classifies one statement for the relay.
type stmtInfo struct {
	copy    *copySpec // a Redshift COPY ... FROM 'uri'
	copyErr error     // the COPY did not parse
	isCopy  bool
	write   bool   // refused while read-only
	verb    string // first keyword, for the read-only message
	empty   bool
	sysRefs bool // mentions stl_load_errors, pg_last_copy_id(), ... (sysnames.go)
	ddl     bool // CREATE TABLE with Redshift's clauses (ddl.go)
	// For serializable mode (serial.go): the tables the statement reads
	// and writes, whether it begins or ends a transaction, and an error
	// to raise in its place.
	access tableAccess
	txn    txnKind
	raise  *pgError
}

// writeVerbs are the statements a Redshift cluster refuses while resizing.
var writeVerbs = map[string]bool{
	"COPY": true, "INSERT": true, "UPDATE": true, "DELETE": true, "MERGE": true,
	"CREATE": true, "DROP": true, "ALTER": true, "TRUNCATE": true, "LOCK": true,
	"GRANT": true, "REVOKE": true, "COMMENT": true, "VACUUM": true, "REINDEX": true,
	"CLUSTER": true, "REFRESH": true, "UNLOAD": true, "CALL": true,
}

// classify inspects the tokens of one statement.
func classify(toks []token) stmtInfo {
	if len(toks) == 0 {
		return stmtInfo{empty: true}
	}
	info := stmtInfo{}
	if toks[0].kind == tokWord {
		info.verb = strings.ToUpper(toks[0].val)
	}
	switch {
	case isCopyFromLiteral(toks):
		info.isCopy, info.write = true, true
		info.copy, info.copyErr = parseCopy(toks)
	case info.verb == "COPY":
		// COPY ... FROM STDIN writes; COPY ... TO does not.
		for _, t := range toks {
			if t.is("FROM") {
				info.write = true
			}
		}
	case info.verb == "WITH" || info.verb == "EXPLAIN":
		for _, t := range toks {
			if t.is("INSERT") || t.is("UPDATE") || t.is("DELETE") || t.is("MERGE") {
				info.write, info.verb = true, strings.ToUpper(t.val)
				break
			}
		}
	default:
		info.write = writeVerbs[info.verb]
	}
	info.sysRefs = !info.isCopy && hasSysNames(toks)
	info.ddl = info.verb == "CREATE" && isRedshiftDDL(toks)
	info.access, info.txn = accessOf(toks, info), txnOf(toks)
	return info
}

// classifySingle classifies a Parse message's query, which holds one
// statement (possibly with a trailing ';'). Several statements are left to
// the backend to reject.
func classifySingle(sql string) stmtInfo {
	var found *segment
	segs := splitStatements(sql)
	for i := range segs {
		if len(segs[i].toks) == 0 {
			continue
		}
		if found != nil {
			return stmtInfo{}
		}
		found = &segs[i]
	}
	if found == nil {
		return stmtInfo{empty: true}
	}
	return classify(found.toks)
}
