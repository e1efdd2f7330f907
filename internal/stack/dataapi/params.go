package dataapi

import (
	"fmt"
	"strings"
)

// bind replaces the named parameters (:name) of sql with the values given,
// as string literals: like the real service, values are strings that the
// database converts to the type the context needs. A ':' inside quotes, a
// comment or a '::' cast is not a parameter. Every parameter the SQL names
// must be given.
func bind(sql string, params []sqlParameter) (string, error) {
	if !strings.Contains(sql, ":") {
		return sql, nil
	}
	values := make(map[string]string, len(params))
	for _, p := range params {
		values[p.Name] = p.Value
	}
	var b strings.Builder
	n := len(sql)
	for i := 0; i < n; {
		c := sql[i]
		switch {
		case c == '\'' || c == '"':
			j := skipQuoted(sql, i)
			b.WriteString(sql[i:j])
			i = j
		case c == '-' && i+1 < n && sql[i+1] == '-':
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				j = n - i
			}
			b.WriteString(sql[i : i+j])
			i += j
		case c == '/' && i+1 < n && sql[i+1] == '*':
			j := strings.Index(sql[i+2:], "*/")
			end := n
			if j >= 0 {
				end = i + 2 + j + 2
			}
			b.WriteString(sql[i:end])
			i = end
		case c == ':' && i+1 < n && sql[i+1] == ':':
			b.WriteString("::")
			i += 2
		case c == ':' && i+1 < n && isNameStart(sql[i+1]):
			j := i + 1
			for j < n && isNameCont(sql[j]) {
				j++
			}
			name := sql[i+1 : j]
			v, ok := values[name]
			if !ok {
				return "", fmt.Errorf("the SQL uses parameter :%s but no value was given for it", name)
			}
			b.WriteString(literal(v))
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), nil
}

// skipQuoted returns the index just past the '...' or "..." starting at i.
// Inside single quotes a backslash escapes the next byte (Redshift's rule);
// a doubled quote is a quote in both.
func skipQuoted(sql string, i int) int {
	q := sql[i]
	for j := i + 1; j < len(sql); j++ {
		switch {
		case sql[j] == '\\' && q == '\'':
			j++
		case sql[j] == q && j+1 < len(sql) && sql[j+1] == q:
			j++
		case sql[j] == q:
			return j + 1
		}
	}
	return len(sql)
}

// literal quotes v as an escape-string literal, which means the same to
// PostgreSQL (behind the simulator) whatever standard_conforming_strings
// says.
func literal(v string) string {
	v = strings.ReplaceAll(v, "\x00", "")
	v = strings.ReplaceAll(v, `\`, `\\`)
	return "E'" + strings.ReplaceAll(v, "'", `\'`) + "'"
}

func isNameStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isNameCont(c byte) bool { return isNameStart(c) || (c >= '0' && c <= '9') }
