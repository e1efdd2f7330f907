package redshiftsim

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A record that cannot be loaded is a load error, as Redshift reports it:
// the COPY fails with "Load into table 'T' failed.  Check 'stl_load_errors'
// system table for details." unless MAXERROR lets it skip the record, and
// either way the record is written to stl_load_errors with Redshift's error
// code and reason. Records that are not valid input at all (bad JSON) are
// found by the proxy while parsing; records whose values do not fit the
// table are found by the backend (rinsim.copy_rows, sysobjects.go), which
// reports them by position and PostgreSQL error; this file turns both into
// Redshift's terms.

// Redshift load error codes (stl_load_errors.err_code) the simulator uses.
const (
	errCodeUnknown     = 1200 // unknown parse error
	errCodeTooLong     = 1204 // input exceeded the range of the type (string too long)
	errCodeDate        = 1205 // invalid date
	errCodeTimestamp   = 1206 // invalid timestamp
	errCodeDigit       = 1207 // invalid digit / overflow in a number
	errCodeFloat       = 1208 // invalid float
	errCodeBoolean     = 1210 // invalid boolean
	errCodeDelimiter   = 1214 // delimiter not found / extra columns
	errCodeInvalidJSON = 1216 // invalid input line (JSON that does not parse or is not an object)
)

// maxRawLine and maxRawField are Redshift's column widths for raw_line
// (char(1024)) and raw_field_value (char(1024)); err_reason is char(100).
const (
	maxRawLine   = 1024
	maxRawField  = 1024
	maxErrReason = 100
)

// loadFailedMessage is Redshift's error for a COPY with too many bad rows.
// The table is named without its schema, and there are two spaces before
// "Check".
func loadFailedMessage(table string) string {
	return "Load into table '" + table + "' failed.  Check 'stl_load_errors' system table for details."
}

// loadError is one rejected record, in stl_load_errors' terms.
type loadError struct {
	file     int // index into the COPY's files
	line     int // 1-based line where the record starts
	rawLine  string
	colname  string
	typ      string
	colLen   string
	position int
	rawField string
	code     int
	reason   string
}

// backendReport is what rinsim.copy_rows reports about bad records.
type backendReport struct {
	Loaded int64        `json:"loaded"`
	Tbl    int64        `json:"tbl"`
	Bad    []backendBad `json:"bad"`
}

// backendBad is one record the backend rejected: a wrong field count
// (State "fields") or the PostgreSQL error converting it.
type backendBad struct {
	I      int     `json:"i"`
	State  string  `json:"state"`
	Msg    string  `json:"msg"`
	Col    *string `json:"col"`
	Val    *string `json:"val"`
	Type   *string `json:"type"`
	Typmod *int    `json:"typmod"`
	N      int     `json:"n"`
	Want   int     `json:"want"`
}

// redshiftError fills e's column, code and reason from the backend's
// report.
func (b *backendBad) redshiftError(e *loadError) {
	if b.State == "fields" {
		e.code = errCodeDelimiter
		if b.N > b.Want {
			e.reason = "Extra column(s) found"
		} else {
			e.reason = "Delimiter not found"
		}
		return
	}
	typ, val := deref(b.Type), deref(b.Val)
	e.colname, e.typ, e.rawField = deref(b.Col), typ, truncUTF8(val, maxRawField)
	e.colLen = "0"
	if b.Typmod != nil && *b.Typmod > 4 {
		switch typ {
		case "varchar", "bpchar":
			e.colLen = strconv.Itoa(*b.Typmod - 4)
		case "numeric":
			e.colLen = fmt.Sprintf("%d,%d", (*b.Typmod-4)>>16, (*b.Typmod-4)&0xffff)
		}
	}
	e.code, e.reason = errCodeUnknown, "Unknown parse error: "+b.Msg
	switch {
	case b.State == "22001":
		e.code, e.reason = errCodeTooLong, "String length exceeds DDL length"
	case b.State == "22003" && numberTypeName(typ) != "":
		e.code, e.reason = errCodeDigit, fmt.Sprintf("Overflow, Value '%s', Pos 0, Type: %s", val, numberTypeName(typ))
	case numberTypeName(typ) != "" && b.State == "22P02":
		pos := firstNonDigit(val)
		bad := ""
		if pos < len(val) {
			r, _ := utf8.DecodeRuneInString(val[pos:])
			bad = string(r)
		}
		e.code, e.position = errCodeDigit, pos
		e.reason = fmt.Sprintf("Invalid digit, Value '%s', Pos %d, Type: %s", bad, pos, numberTypeName(typ))
	case typ == "float4" || typ == "float8":
		e.code, e.reason = errCodeFloat, "Invalid float format"
	case typ == "bool":
		e.code, e.reason = errCodeBoolean, "Invalid boolean format"
	case typ == "date":
		e.code, e.reason = errCodeDate, "Invalid Date Format - length must be 10 or more"
		if len(val) >= 10 {
			e.reason = "Invalid date format - Invalid digit encountered"
		}
	case strings.HasPrefix(typ, "timestamp") || strings.HasPrefix(typ, "time"):
		e.code, e.reason = errCodeTimestamp, "Invalid timestamp format or value [YYYY-MM-DD HH24:MI:SS]"
	}
	e.reason = truncUTF8(e.reason, maxErrReason)
}

// numberTypeName is Redshift's name for an integer or decimal type, as its
// error reasons print it, or "".
func numberTypeName(typ string) string {
	switch typ {
	case "int2":
		return "Short"
	case "int4":
		return "Integer"
	case "int8":
		return "Long"
	case "numeric":
		return "Decimal"
	}
	return ""
}

// firstNonDigit is the position of the first character of v that cannot
// be part of a number (a sign only at the start).
func firstNonDigit(v string) int {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= '0' && c <= '9' || c == '.' || (i == 0 && (c == '-' || c == '+')) {
			continue
		}
		return i
	}
	return 0
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// truncUTF8 cuts s to at most n bytes without splitting a character.
func truncUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// stlRow is one stl_load_errors row as the side connection inserts it.
type stlRow struct {
	Tbl        int64  `json:"tbl"`
	Session    uint32 `json:"session"`
	Query      int32  `json:"query"`
	Filename   string `json:"filename"`
	LineNumber int    `json:"line_number"`
	Colname    string `json:"colname"`
	Type       string `json:"type"`
	ColLength  string `json:"col_length"`
	Position   int    `json:"position"`
	RawLine    string `json:"raw_line"`
	RawField   string `json:"raw_field_value"`
	ErrCode    int    `json:"err_code"`
	ErrReason  string `json:"err_reason"`
}

// stlRows renders a run's rejected records for the side connection. NUL
// cannot be stored in PostgreSQL text, so it is dropped.
func (r *copyRun) stlRows(pid uint32) ([]byte, int) {
	all := r.allErrors()
	rows := make([]stlRow, len(all))
	for i, e := range all {
		file := ""
		if e.file >= 0 && e.file < len(r.files) {
			file = r.files[e.file]
		}
		rows[i] = stlRow{
			Tbl: r.tbl(), Session: pid, Query: r.query, Filename: file, LineNumber: e.line,
			Colname: e.colname, Type: e.typ, ColLength: e.colLen, Position: e.position,
			RawLine: noNUL(e.rawLine), RawField: noNUL(e.rawField), ErrCode: e.code, ErrReason: noNUL(e.reason),
		}
	}
	b, _ := json.Marshal(rows)
	return b, len(rows)
}

func noNUL(s string) string { return strings.ReplaceAll(strings.ToValidUTF8(s, "?"), "\x00", "") }
