package redshiftsim

import (
	"bytes"
	"errors"
	"io"
	"strconv"

	"github.com/parquet-go/parquet-go"
)

// A Parquet COPY loads by position, like delimited text: the file's first
// column into the table's first (or the COPY's column list's), and so on,
// each value converted by the column's own input function. Here the files
// are read with parquet-go, typed values rendered as the text those input
// functions read (parquettext.go), and each row sent as a JSON object keyed
// by position; the backend checks each file's number of columns against
// the table's and renames the keys after its columns (columnar_json,
// sysobjects.go), since only the backend knows the table.

// parquetRowBatch is how many rows are read from a row group at a time.
const parquetRowBatch = 256

// parseParquet reads every file of a Parquet COPY. keepRows also keeps the
// rows as fields, for the plain-INSERT fallback. A file that is not
// Parquet, or whose manifest size is wrong, fails the COPY (Spectrum Scan
// Error); a nested column is not simulated.
func (s *Server) parseParquet(objs []s3Object, keepRows bool) (*parsed, error) {
	p := &parsed{array: []byte{'['}, lines: make([]int, len(objs)), fileStart: make([]int, len(objs))}
	p.cols = make([]int, len(objs))
	p.names = make([]string, len(objs))
	for i, o := range objs {
		p.fileStart[i] = len(p.recs)
		p.names[i] = s.spectrumName(o.bucket, o.key)
		p.cols[i] = -1
		if err := columnarSizeCheck(inputEntry{length: o.length}, p.names[i], len(o.data)); err != nil {
			return nil, err
		}
		if len(o.data) == 0 {
			continue // an empty object holds no rows, as with the other formats
		}
		n, err := p.addParquet(i, o.data, p.names[i], keepRows)
		if err != nil {
			return nil, err
		}
		p.cols[i] = n
	}
	p.array = append(p.array, ']')
	return p, nil
}

// addParquet appends one file's rows and returns its number of columns.
func (p *parsed) addParquet(file int, data []byte, name string, keepRows bool) (int, error) {
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return 0, spectrumScanError("File '" + name + "' is not a valid Parquet file: " + err.Error())
	}
	fields := f.Schema().Fields()
	texts := make([]valueText, len(fields))
	for c, fl := range fields {
		if !fl.Leaf() || fl.Repeated() {
			return 0, errUnsupported("redshiftsim: column '%s' of '%s' is nested or repeated; loading nested Parquet types (SERIALIZETOJSON into SUPER) is not simulated", fl.Name(), name)
		}
		texts[c] = textOf(fl.Type())
	}
	buf := make([]parquet.Row, parquetRowBatch)
	rowNum := 0
	var elem []byte
	for _, rg := range f.RowGroups() {
		rows := rg.Rows()
		for {
			n, err := rows.ReadRows(buf)
			for _, r := range buf[:n] {
				rowNum++
				rec := make([]field, len(fields))
				for c := range rec {
					rec[c].null = true
				}
				for _, v := range r {
					if c := v.Column(); c < len(rec) && !v.IsNull() {
						rec[c] = field{s: texts[c](v)}
					}
				}
				elem = appendPositional(elem[:0], rec)
				p.add(record{file: file, line: rowNum}, elem)
				if keepRows {
					p.rows = append(p.rows, rec)
				}
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rows.Close()
				return 0, spectrumScanError("File '" + name + "' could not be read: " + err.Error())
			}
		}
		rows.Close()
	}
	p.lines[file] = rowNum
	return len(fields), nil
}

// appendPositional renders a row as a JSON object keyed by column position,
// "\u0001c1" for the first; the backend renames the keys after the table's
// columns (rinsim.columnar_json). Nulls are left out: a missing key loads
// NULL.
func appendPositional(b []byte, rec []field) []byte {
	b = append(b, '{')
	first := true
	for i, f := range rec {
		if f.null {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, `"\u0001c`...)
		b = strconv.AppendInt(b, int64(i+1), 10)
		b = append(b, '"', ':')
		b = appendJSONString(b, f.s)
	}
	return append(b, '}')
}
