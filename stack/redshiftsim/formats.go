package redshiftsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
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

// parseJSONObjects reads a stream of JSON objects (newline-separated or
// concatenated) from every input and returns them as one JSON array suitable
// for json_populate_recordset. With ignoreCase, keys are lower-cased so they
// match PostgreSQL's folded column names.
func parseJSONObjects(objs []s3Object, ignoreCase bool) ([]byte, int, error) {
	out := []byte{'['}
	count := 0
	for _, o := range objs {
		dec := json.NewDecoder(bytes.NewReader(o.data))
		for {
			var raw json.RawMessage
			err := dec.Decode(&raw)
			if errors.Is(err, io.EOF) {
				break
			}
			if err == nil && (len(raw) == 0 || raw[0] != '{') {
				err = errors.New("record is not a JSON object")
			}
			if err != nil {
				return nil, 0, errInternal("Invalid JSON object in '%s' near record %d: %v", o.url, count+1, err)
			}
			if ignoreCase {
				var m map[string]json.RawMessage
				if err := json.Unmarshal(raw, &m); err != nil {
					return nil, 0, errInternal("Invalid JSON object in '%s' near record %d: %v", o.url, count+1, err)
				}
				lower := make(map[string]json.RawMessage, len(m))
				for k, v := range m {
					lower[strings.ToLower(k)] = v
				}
				if raw, err = json.Marshal(lower); err != nil {
					return nil, 0, errInternal("re-encoding JSON: %v", err)
				}
			}
			if count > 0 {
				out = append(out, ',')
			}
			out = append(out, raw...)
			count++
		}
	}
	return append(out, ']'), count, nil
}

// parseDelimited parses CSV or delimited text from every input, applying
// IGNOREHEADER per file as Redshift does.
func parseDelimited(objs []s3Object, spec *copySpec) ([][]field, error) {
	var rows [][]field
	for _, o := range objs {
		var recs [][]field
		if spec.format == formatCSV {
			recs = parseCSV(o.data, spec)
		} else {
			recs = parseText(o.data, spec)
		}
		if spec.ignoreHeader >= len(recs) {
			continue
		}
		rows = append(rows, recs[spec.ignoreHeader:]...)
	}
	return rows, nil
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
func parseCSV(data []byte, spec *copySpec) [][]field {
	s := string(data)
	delim, quote := spec.delimiter[0], spec.quote
	var recs [][]field
	var rec []field
	i, n := 0, len(s)
	for i < n {
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
		i++
		recs = appendRecord(recs, rec)
		rec = nil
	}
	if rec != nil {
		recs = appendRecord(recs, rec)
	}
	return recs
}

// appendRecord drops blank lines (a single empty unquoted field).
func appendRecord(recs [][]field, rec []field) [][]field {
	if len(rec) == 1 && rec[0].null && rec[0].s == "" {
		return recs
	}
	return append(recs, rec)
}

// parseText parses Redshift's default delimited text format: one record per
// line, no quoting; NULL AS defaults to \N; with ESCAPE a backslash makes the
// next character (delimiter, newline, backslash) literal.
func parseText(data []byte, spec *copySpec) [][]field {
	s := string(data)
	delim := spec.delimiter[0]
	var recs [][]field
	var rec []field
	var raw, val strings.Builder
	i, n := 0, len(s)
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
			recs = appendRecord(recs, rec)
			rec = nil
		default:
			raw.WriteByte(c)
			val.WriteByte(c)
		}
		i++
	}
	if raw.Len() > 0 || rec != nil {
		endField()
		recs = appendRecord(recs, rec)
	}
	return recs
}
