package redshift

import (
	"strings"
)

// quoteIdent quotes a schema or table name. Names come from config and
// from regexp captures of S3 keys: data, never SQL.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(strings.ReplaceAll(s, "\x00", ""), `"`, `""`) + `"`
}

// quoteLiteral quotes a string for Redshift, which (unlike PostgreSQL with
// standard_conforming_strings) treats a backslash inside '...' as an escape:
// both the quote and the backslash are doubled.
func quoteLiteral(s string) string {
	s = strings.ReplaceAll(s, "\x00", "")
	s = strings.ReplaceAll(s, `\`, `\\`)
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// tableName is the quoted, schema-qualified name.
func tableName(schema, table string) string {
	if schema == "" {
		return quoteIdent(table)
	}
	return quoteIdent(schema) + "." + quoteIdent(table)
}
