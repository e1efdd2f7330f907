package redshiftsim

import "strings"

// The proxy must find statement boundaries and recognise COPY statements in
// SQL written for Redshift, which PostgreSQL would reject. A full parser is not
// needed: a lexer that knows PostgreSQL's quoting rules is enough to tell a
// real ';' or keyword from one hidden inside a string, identifier, dollar
// quote or comment. Getting this wrong would let hostile data (S3 keys, JSON
// values) change the meaning of the SQL, so the lexer is deliberately strict
// about quotes and lenient about everything else.

type tokKind int

const (
	tokWord        tokKind = iota // unquoted identifier or keyword
	tokQuotedIdent                // "ident"
	tokString                     // 'string' or E'string'
	tokDollar                     // $tag$ body $tag$
	tokNumber                     // 123, 1.5
	tokParam                      // $1
	tokSemicolon                  // ;
	tokPunct                      // any other character
)

// token is one lexical element. pos/end index the original SQL text; val is
// the decoded value of strings and quoted identifiers (quotes removed, escapes
// resolved) and the raw text otherwise.
type token struct {
	kind         tokKind
	pos, end     int
	val          string
	unterminated bool
}

// is reports whether t is the unquoted keyword kw (case-insensitive).
func (t token) is(kw string) bool {
	return t.kind == tokWord && strings.EqualFold(t.val, kw)
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentCont(c byte) bool {
	return isIdentStart(c) || c == '$' || (c >= '0' && c <= '9')
}

// lex splits sql into tokens, dropping whitespace and comments. It never
// fails: unterminated quotes yield a token marked unterminated that extends to
// the end of the input, so the backend reports the syntax error itself.
func lex(sql string) []token {
	var toks []token
	i := 0
	n := len(sql)
	for i < n {
		c := sql[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < n && sql[i+1] == '-':
			for i < n && sql[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < n && sql[i+1] == '*':
			// PostgreSQL block comments nest.
			depth := 0
			for i < n {
				if sql[i] == '/' && i+1 < n && sql[i+1] == '*' {
					depth++
					i += 2
				} else if sql[i] == '*' && i+1 < n && sql[i+1] == '/' {
					depth--
					i += 2
					if depth == 0 {
						break
					}
				} else {
					i++
				}
			}
		case (c == 'E' || c == 'e') && i+1 < n && sql[i+1] == '\'':
			t := lexString(sql, i+1, true)
			t.pos = i
			toks = append(toks, t)
			i = t.end
		case c == '\'':
			t := lexString(sql, i, false)
			toks = append(toks, t)
			i = t.end
		case c == '"':
			t := token{kind: tokQuotedIdent, pos: i}
			var b strings.Builder
			j := i + 1
			for {
				if j >= n {
					t.unterminated = true
					break
				}
				if sql[j] == '"' {
					if j+1 < n && sql[j+1] == '"' {
						b.WriteByte('"')
						j += 2
						continue
					}
					j++
					break
				}
				b.WriteByte(sql[j])
				j++
			}
			t.end, t.val = j, b.String()
			toks = append(toks, t)
			i = j
		case c == '$':
			t := lexDollar(sql, i)
			toks = append(toks, t)
			i = t.end
		case isIdentStart(c):
			j := i + 1
			for j < n && isIdentCont(sql[j]) {
				j++
			}
			toks = append(toks, token{kind: tokWord, pos: i, end: j, val: sql[i:j]})
			i = j
		case c >= '0' && c <= '9':
			j := i + 1
			for j < n && (sql[j] >= '0' && sql[j] <= '9' || sql[j] == '.') {
				j++
			}
			toks = append(toks, token{kind: tokNumber, pos: i, end: j, val: sql[i:j]})
			i = j
		case c == ';':
			toks = append(toks, token{kind: tokSemicolon, pos: i, end: i + 1, val: ";"})
			i++
		default:
			toks = append(toks, token{kind: tokPunct, pos: i, end: i + 1, val: sql[i : i+1]})
			i++
		}
	}
	return toks
}

// lexString reads a '...' literal starting at the quote at i. With escapes
// (E'...'), backslash escapes the next character; the common escapes are
// decoded, which is all the COPY options need.
func lexString(sql string, i int, escapes bool) token {
	t := token{kind: tokString, pos: i}
	var b strings.Builder
	j := i + 1
	n := len(sql)
	for {
		if j >= n {
			t.unterminated = true
			break
		}
		c := sql[j]
		if escapes && c == '\\' && j+1 < n {
			switch e := sql[j+1]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			default:
				b.WriteByte(e)
			}
			j += 2
			continue
		}
		if c == '\'' {
			if j+1 < n && sql[j+1] == '\'' {
				b.WriteByte('\'')
				j += 2
				continue
			}
			j++
			break
		}
		b.WriteByte(c)
		j++
	}
	t.end, t.val = j, b.String()
	return t
}

// lexDollar reads a parameter ($1), a dollar-quoted string ($tag$...$tag$)
// or a lone '$' starting at i.
func lexDollar(sql string, i int) token {
	n := len(sql)
	if i+1 < n && sql[i+1] >= '0' && sql[i+1] <= '9' {
		j := i + 1
		for j < n && sql[j] >= '0' && sql[j] <= '9' {
			j++
		}
		return token{kind: tokParam, pos: i, end: j, val: sql[i:j]}
	}
	j := i + 1
	if j < n && isIdentStart(sql[j]) {
		for j < n && isIdentCont(sql[j]) && sql[j] != '$' {
			j++
		}
	}
	if j >= n || sql[j] != '$' {
		return token{kind: tokPunct, pos: i, end: i + 1, val: "$"}
	}
	tag := sql[i : j+1]
	bodyStart := j + 1
	k := strings.Index(sql[bodyStart:], tag)
	if k < 0 {
		return token{kind: tokDollar, pos: i, end: n, val: sql[bodyStart:], unterminated: true}
	}
	return token{kind: tokDollar, pos: i, end: bodyStart + k + len(tag), val: sql[bodyStart : bodyStart+k]}
}
