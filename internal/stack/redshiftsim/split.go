package redshiftsim

// A simple-protocol Query may hold several statements ("BEGIN; COPY ...;
// COMMIT"). Only the COPY must be rewritten and the rest must reach the
// backend byte for byte, so the query is cut into segments at top-level
// semicolons and reassembled after rewriting.

// segment is one statement of a query string: text is the statement without
// its terminating ';' and toks its tokens (positions relative to the whole
// query). A segment without tokens is empty (whitespace/comments only).
type segment struct {
	text string
	toks []token
	semi bool // followed by ';'
}

// splitStatements cuts sql at semicolons that are not inside quotes or
// comments.
func splitStatements(sql string) []segment {
	toks := lex(sql)
	var segs []segment
	start := 0
	var cur []token
	for _, t := range toks {
		if t.kind == tokSemicolon {
			segs = append(segs, segment{text: sql[start:t.pos], toks: cur, semi: true})
			start, cur = t.end, nil
			continue
		}
		cur = append(cur, t)
	}
	segs = append(segs, segment{text: sql[start:], toks: cur})
	return segs
}

// joinStatements reassembles segments, using replacement text where given
// (replace[i] == "" keeps the original).
func joinStatements(segs []segment, replace []string) string {
	var out []byte
	for i, s := range segs {
		if replace[i] != "" {
			out = append(out, replace[i]...)
		} else {
			out = append(out, s.text...)
		}
		if s.semi {
			out = append(out, ';')
		}
	}
	return string(out)
}
