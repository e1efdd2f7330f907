package redshiftsim

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// The input formats are parsed in the proxy rather than handed to
// PostgreSQL's COPY because Redshift's rules differ (pipe as default
// delimiter, per-file IGNOREHEADER, JSON 'auto' key matching) and because the
// data must reach the backend as part of a statement in the client's session.

// field is one parsed value; null marks SQL NULL.
type field struct {
	s    string
	null bool
}

// record locates one input record in its file, for stl_load_errors.
type record struct {
	file, line int // file index, 1-based line where the record starts
	start, end int // byte range in the file's data
}

// parsed is a COPY's input after parsing: the records in one JSON array
// for the backend, where each came from, and the records already rejected.
type parsed struct {
	array     []byte      // objects (JSON) or arrays of fields, strings or null (delimited)
	rows      [][]field   // delimited: the same records, for the plain-INSERT fallback
	recs      []record    // array's records, in order
	bad       []loadError // records that are not valid input
	lines     []int       // per file: lines scanned
	fileStart []int       // per file: index in recs of its first record
	cols      []int       // Parquet, per file: its columns (-1: no schema, an empty object)
	names     []string    // Parquet, per file: its name in Spectrum's errors
}

// parseInputs parses every file of a COPY, applying IGNOREHEADER per file
// as Redshift does.
func parseInputs(objs []s3Object, spec *copySpec) *parsed {
	p := &parsed{array: []byte{'['}, lines: make([]int, len(objs)), fileStart: make([]int, len(objs))}
	for i, o := range objs {
		p.fileStart[i] = len(p.recs)
		p.lines[i] = countLines(o.data)
		if spec.format == formatJSON {
			p.addJSON(i, o.data, spec.jsonIgnoreCase)
			continue
		}
		var recs []rawRecord
		if spec.format == formatCSV {
			recs = parseCSV(o.data, spec)
		} else {
			recs = parseText(o.data, spec)
		}
		if spec.ignoreHeader >= len(recs) {
			continue
		}
		lc := lineCounter{data: o.data}
		for _, r := range recs[spec.ignoreHeader:] {
			p.add(record{file: i, line: lc.at(r.start), start: r.start, end: r.end}, appendFields(nil, r.fields))
			p.rows = append(p.rows, r.fields)
		}
	}
	p.array = append(p.array, ']')
	return p
}

// add appends one record to the array.
func (p *parsed) add(r record, elem []byte) {
	if len(p.recs) > 0 {
		p.array = append(p.array, ',')
	}
	p.array = append(p.array, elem...)
	p.recs = append(p.recs, r)
}

// addJSON reads a stream of JSON objects (newline-separated or
// concatenated). With ignoreCase, keys are lower-cased so they match
// PostgreSQL's folded column names. A record that does not parse is
// rejected up to the end of its line, where parsing resumes; one that is
// not an object is rejected whole.
func (p *parsed) addJSON(file int, data []byte, ignoreCase bool) {
	lc := lineCounter{data: data}
	base := 0
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		start := skipSpace(data, base+int(dec.InputOffset()))
		if start >= len(data) {
			return
		}
		var raw json.RawMessage
		err := dec.Decode(&raw)
		end := base + int(dec.InputOffset())
		if err != nil {
			stop := len(data)
			if nl := bytes.IndexByte(data[start:], '\n'); nl >= 0 {
				stop = start + nl
			}
			p.reject(file, lc.at(start), data[start:stop], "Invalid JSON syntax: "+err.Error())
			base = min(stop+1, len(data))
			dec = json.NewDecoder(bytes.NewReader(data[base:]))
			continue
		}
		if len(raw) == 0 || raw[0] != '{' {
			p.reject(file, lc.at(start), data[start:end], "Invalid JSON object: the record is not a JSON object")
			continue
		}
		if ignoreCase {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(raw, &m); err != nil {
				p.reject(file, lc.at(start), data[start:end], "Invalid JSON syntax: "+err.Error())
				continue
			}
			lower := make(map[string]json.RawMessage, len(m))
			for k, v := range m {
				lower[strings.ToLower(k)] = v
			}
			raw, _ = json.Marshal(lower)
		}
		p.add(record{file: file, line: lc.at(start), start: start, end: end}, raw)
	}
}

// reject records a record that is not valid JSON input.
func (p *parsed) reject(file, line int, raw []byte, reason string) {
	p.bad = append(p.bad, loadError{file: file, line: line, rawLine: truncUTF8(string(raw), maxRawLine),
		code: errCodeInvalidJSON, reason: truncUTF8(reason, maxErrReason)})
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// countLines is the number of lines in data (a last line without a
// newline counts).
func countLines(data []byte) int {
	n := bytes.Count(data, []byte{'\n'})
	if len(data) > 0 && data[len(data)-1] != '\n' {
		n++
	}
	return n
}

// lineCounter turns increasing byte offsets into 1-based line numbers.
type lineCounter struct {
	data      []byte
	pos, line int
}

func (c *lineCounter) at(pos int) int {
	if c.line == 0 {
		c.line = 1
	}
	pos = min(pos, len(c.data))
	if pos > c.pos {
		c.line += bytes.Count(c.data[c.pos:pos], []byte{'\n'})
		c.pos = pos
	}
	return c.line
}

// appendFields renders a delimited record as a JSON array of strings and
// nulls. NUL is dropped: PostgreSQL text cannot hold it.
func appendFields(b []byte, fields []field) []byte {
	b = append(b, '[')
	for i, f := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		if f.null {
			b = append(b, "null"...)
			continue
		}
		b = appendJSONString(b, f.s)
	}
	return append(b, ']')
}

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes
// U+FFFD, as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == 0:
			i++
			continue
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		case c < utf8.RuneSelf:
			b = append(b, c)
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, "\\ufffd"...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
			continue
		}
		i++
	}
	return append(b, '"')
}

// finishField applies the NULL rules to an unquoted field: empty, equal to
// NULL AS, or (BLANKSASNULL) only blanks.
func finishField(raw, val string, spec *copySpec, nullDefault string) field {
	if spec.trimBlanks {
		val = strings.TrimRight(val, " ")
	}
	null := nullDefault
	if spec.nullAs != nil {
		null = *spec.nullAs
	}
	switch {
	case raw == "":
		return field{null: true}
	case raw == null:
		return field{null: true}
	case spec.blanksAsNull && strings.TrimSpace(raw) == "":
		return field{null: true}
	}
	return field{s: val}
}

// parseCSV implements RFC 4180 with a configurable quote and delimiter. A
// quoted field is never NULL; an empty unquoted one is.
func parseCSV(data []byte, spec *copySpec) []rawRecord {
	s := string(data)
	delim, quote := spec.delimiter[0], spec.quote
	var recs []rawRecord
	var rec []field
	i, n := 0, len(s)
	start := 0
	for i < n {
		if rec == nil {
			start = i
		}
		// Start of a field.
		if s[i] == quote {
			var b strings.Builder
			i++
			for i < n {
				if s[i] == quote {
					if i+1 < n && s[i+1] == quote {
						b.WriteByte(quote)
						i += 2
						continue
					}
					i++
					break
				}
				b.WriteByte(s[i])
				i++
			}
			// Tolerate junk between the closing quote and the delimiter.
			for i < n && s[i] != delim && s[i] != '\n' {
				if s[i] != '\r' {
					b.WriteByte(s[i])
				}
				i++
			}
			v := b.String()
			if spec.trimBlanks {
				v = strings.TrimRight(v, " ")
			}
			rec = append(rec, field{s: v})
		} else {
			j := i
			for j < n && s[j] != delim && s[j] != '\n' {
				j++
			}
			raw := strings.TrimSuffix(s[i:j], "\r")
			rec = append(rec, finishField(raw, raw, spec, ""))
			i = j
		}
		if i >= n {
			break
		}
		if s[i] == delim {
			i++
			if i >= n || s[i] == '\n' { // trailing delimiter: one more empty field
				rec = append(rec, finishField("", "", spec, ""))
			}
			if i < n && s[i] != '\n' {
				continue
			}
		}
		// s[i] == '\n' or end of input: end of record.
		recs = appendRecord(recs, rec, start, min(i, n))
		i++
		rec = nil
	}
	if rec != nil {
		recs = appendRecord(recs, rec, start, n)
	}
	return recs
}

// rawRecord is one delimited record and its byte range in the file.
type rawRecord struct {
	fields     []field
	start, end int
}

// appendRecord drops blank lines (a single empty unquoted field).
func appendRecord(recs []rawRecord, rec []field, start, end int) []rawRecord {
	if len(rec) == 1 && rec[0].null && rec[0].s == "" {
		return recs
	}
	return append(recs, rawRecord{fields: rec, start: start, end: end})
}

// parseText parses Redshift's default delimited text format: one record per
// line, no quoting; NULL AS defaults to \N; with ESCAPE a backslash makes the
// next character (delimiter, newline, backslash) literal.
func parseText(data []byte, spec *copySpec) []rawRecord {
	s := string(data)
	delim := spec.delimiter[0]
	var recs []rawRecord
	var rec []field
	var raw, val strings.Builder
	i, n := 0, len(s)
	start, inRecord := 0, false
	endField := func() {
		r, v := raw.String(), val.String()
		if spec.removeQuotes && len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		rec = append(rec, finishField(r, v, spec, `\N`))
		raw.Reset()
		val.Reset()
	}
	for i < n {
		if !inRecord {
			start, inRecord = i, true
		}
		c := s[i]
		switch {
		case spec.escape && c == '\\' && i+1 < n:
			raw.WriteString(s[i : i+2])
			val.WriteByte(s[i+1])
			i += 2
			continue
		case c == delim:
			endField()
		case c == '\n':
			if r := raw.String(); strings.HasSuffix(r, "\r") {
				raw.Reset()
				raw.WriteString(strings.TrimSuffix(r, "\r"))
				v := strings.TrimSuffix(val.String(), "\r")
				val.Reset()
				val.WriteString(v)
			}
			endField()
			recs = appendRecord(recs, rec, start, i)
			rec, inRecord = nil, false
		default:
			raw.WriteByte(c)
			val.WriteByte(c)
		}
		i++
	}
	if raw.Len() > 0 || rec != nil {
		endField()
		recs = appendRecord(recs, rec, start, n)
	}
	return recs
}
