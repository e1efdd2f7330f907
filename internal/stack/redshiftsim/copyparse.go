package redshiftsim

import (
	"strconv"
	"strings"
)

// Redshift's COPY grammar differs from PostgreSQL's: options are bare
// keywords, the source is an S3 URI, and many options only matter to a real
// cluster. copySpec captures what the simulator models; the rest is accepted
// and ignored so that production COPY statements run unchanged.

type dataFormat int

const (
	formatText dataFormat = iota // delimited text, pipe by default
	formatCSV
	formatJSON
	formatParquet // columnar: loaded by position, under Spectrum's rules (columnar.go)
)

type copySpec struct {
	table   []string // identifier parts, case-folded like PostgreSQL does
	columns []string // optional column list
	uri     string

	manifest       bool
	noLoad         bool   // check the input but load nothing
	compression    string // "", "gzip", "bzip2", "zstd"
	format         dataFormat
	jsonIgnoreCase bool
	delimiter      string // one byte
	quote          byte   // CSV quote character
	ignoreHeader   int
	nullAs         *string
	hasCredentials bool
	region         string // REGION 'r': where the COPY reads S3 ("" = the cluster's region)
	maxError       int    // MAXERROR n: bad rows the COPY may skip (0 = none)

	// columnar is PARQUET or ORC when the COPY names a columnar format, and
	// options the option keywords as written, which columnar formats
	// restrict (columnarCheck).
	columnar string
	options  []string

	// What the COPY authenticates with, for the credential faults: the
	// CREDENTIALS string's aws_access_key_id and token, or the
	// ACCESS_KEY_ID and SESSION_TOKEN options.
	accessKeyID  string
	sessionToken string

	escape       bool // text format: backslash escapes the next character
	fillRecord   bool // pad short records with NULLs
	blanksAsNull bool
	trimBlanks   bool
	removeQuotes bool
}

// isCopyFromLiteral reports whether toks is a COPY whose source is a string
// literal (COPY t FROM 's3://...'), the form Redshift uses for S3. Other COPY
// forms (FROM STDIN, TO STDOUT) are PostgreSQL's and pass through.
func isCopyFromLiteral(toks []token) bool {
	if len(toks) == 0 || !toks[0].is("COPY") {
		return false
	}
	depth := 0
	for i, t := range toks {
		switch {
		case t.kind == tokPunct && t.val == "(":
			depth++
		case t.kind == tokPunct && t.val == ")":
			depth--
		case depth == 0 && t.is("FROM"):
			return i+1 < len(toks) && toks[i+1].kind == tokString
		}
	}
	return false
}

// copyParser walks the tokens of one COPY statement.
type copyParser struct {
	toks []token
	i    int
}

func (p *copyParser) peek() (token, bool) {
	if p.i < len(p.toks) {
		return p.toks[p.i], true
	}
	return token{}, false
}

func (p *copyParser) next() (token, bool) {
	t, ok := p.peek()
	if ok {
		p.i++
	}
	return t, ok
}

// optional consumes the keyword kw if it is next.
func (p *copyParser) optional(kw string) bool {
	if t, ok := p.peek(); ok && t.is(kw) {
		p.i++
		return true
	}
	return false
}

func (p *copyParser) punct(c string) bool {
	if t, ok := p.peek(); ok && t.kind == tokPunct && t.val == c {
		p.i++
		return true
	}
	return false
}

func (p *copyParser) near() string {
	if t, ok := p.peek(); ok {
		return t.val
	}
	return "end of input"
}

// ident reads an identifier, folding unquoted names to lower case.
func (p *copyParser) ident() (string, bool) {
	t, ok := p.peek()
	if !ok {
		return "", false
	}
	switch {
	case t.kind == tokWord:
		p.i++
		return strings.ToLower(t.val), true
	case t.kind == tokQuotedIdent && !t.unterminated && t.val != "":
		p.i++
		return t.val, true
	}
	return "", false
}

// str reads a string literal, optionally preceded by AS.
func (p *copyParser) str(option string) (string, error) {
	p.optional("AS")
	t, ok := p.next()
	if !ok || t.kind != tokString || t.unterminated {
		return "", errSyntax("syntax error at or near \"%s\": %s expects a quoted string", t.val, option)
	}
	return t.val, nil
}

// number reads an integer, optionally preceded by AS.
func (p *copyParser) number(option string) (int, error) {
	p.optional("AS")
	t, ok := p.next()
	if ok && (t.kind == tokNumber || t.kind == tokString) {
		if n, err := strconv.Atoi(t.val); err == nil && n >= 0 {
			return n, nil
		}
	}
	return 0, errSyntax("syntax error at or near \"%s\": %s expects a non-negative integer", t.val, option)
}

// parseCopy parses a Redshift COPY ... FROM 'uri' statement.
func parseCopy(toks []token) (*copySpec, error) {
	p := &copyParser{toks: toks}
	p.next() // COPY
	spec := &copySpec{delimiter: "|", quote: '"'}
	for {
		name, ok := p.ident()
		if !ok {
			return nil, errSyntax("syntax error at or near \"%s\": expected table name", p.near())
		}
		spec.table = append(spec.table, name)
		if !p.punct(".") {
			break
		}
	}
	if len(spec.table) > 3 {
		return nil, errSyntax("improper qualified name (too many dotted names)")
	}
	if p.punct("(") {
		for {
			col, ok := p.ident()
			if !ok {
				return nil, errSyntax("syntax error at or near \"%s\": expected column name", p.near())
			}
			spec.columns = append(spec.columns, col)
			if p.punct(")") {
				break
			}
			if !p.punct(",") {
				return nil, errSyntax("syntax error at or near \"%s\" in column list", p.near())
			}
		}
	}
	if !p.optional("FROM") {
		return nil, errSyntax("syntax error at or near \"%s\": expected FROM", p.near())
	}
	uri, err := p.str("FROM")
	if err != nil {
		return nil, err
	}
	spec.uri = uri
	p.optional("WITH")
	delimiterSet := false
	for {
		t, ok := p.next()
		if !ok {
			break
		}
		if t.kind != tokWord {
			return nil, errSyntax("syntax error at or near \"%s\"", t.val)
		}
		kw := strings.ToUpper(t.val)
		spec.options = append(spec.options, kw)
		switch kw {
		case "CREDENTIALS", "ACCESS_KEY_ID", "SECRET_ACCESS_KEY", "SESSION_TOKEN", "REGION",
			"TIMEFORMAT", "DATEFORMAT":
			v, err := p.str(kw)
			if err != nil {
				return nil, err
			}
			switch kw {
			case "CREDENTIALS":
				spec.hasCredentials = true
				parseCredentials(spec, v)
			case "ACCESS_KEY_ID":
				spec.hasCredentials = true
				spec.accessKeyID = v
			case "SESSION_TOKEN":
				spec.sessionToken = v
			case "REGION":
				spec.region = v
			}
		case "IAM_ROLE":
			if !p.optional("DEFAULT") {
				if _, err := p.str(kw); err != nil {
					return nil, err
				}
			}
			spec.hasCredentials = true
		case "MANIFEST":
			spec.manifest = true
		case "NOLOAD":
			spec.noLoad = true
		case "ENCODING":
			p.optional("AS")
			if t, ok := p.next(); !ok || !(t.is("UTF8") || t.kind == tokString && strings.EqualFold(t.val, "UTF8")) {
				return nil, errUnsupported("redshiftsim: only ENCODING UTF8 is supported")
			}
		case "GZIP", "BZIP2", "ZSTD":
			spec.compression = strings.ToLower(kw)
		case "LZOP":
			return nil, errUnsupported("redshiftsim: LZOP compression is not supported")
		case "FORMAT":
			p.optional("AS")
			f, ok := p.next()
			if !ok {
				return nil, errSyntax("syntax error at end of input: FORMAT expects a data format")
			}
			switch {
			case f.is("CSV"):
				spec.format = formatCSV
			case f.is("JSON"):
				if err := p.jsonOption(spec); err != nil {
					return nil, err
				}
			case f.is("PARQUET"), f.is("ORC"):
				spec.columnar = strings.ToUpper(f.val)
			case f.is("AVRO"), f.is("FIXEDWIDTH"), f.is("SHAPEFILE"), f.is("RCFILE"), f.is("SEQUENCEFILE"):
				return nil, errUnsupported("redshiftsim: FORMAT %s is not supported", strings.ToUpper(f.val))
			default:
				return nil, errSyntax("syntax error at or near \"%s\": unknown data format", f.val)
			}
		case "JSON":
			if err := p.jsonOption(spec); err != nil {
				return nil, err
			}
		case "CSV":
			spec.format = formatCSV
		case "PARQUET", "ORC":
			spec.columnar = kw
		case "AVRO", "FIXEDWIDTH", "SHAPEFILE":
			return nil, errUnsupported("redshiftsim: %s is not supported", kw)
		case "QUOTE":
			q, err := p.str(kw)
			if err != nil {
				return nil, err
			}
			if len(q) != 1 {
				return nil, errSyntax("QUOTE must be a single character")
			}
			spec.quote = q[0]
		case "DELIMITER":
			d, err := p.str(kw)
			if err != nil {
				return nil, err
			}
			if d == `\t` {
				d = "\t"
			}
			if len(d) != 1 {
				return nil, errSyntax("DELIMITER must be a single character")
			}
			spec.delimiter, delimiterSet = d, true
		case "IGNOREHEADER":
			n, err := p.number(kw)
			if err != nil {
				return nil, err
			}
			spec.ignoreHeader = n
		case "NULL":
			s, err := p.str(kw)
			if err != nil {
				return nil, err
			}
			spec.nullAs = &s
		case "MAXERROR":
			n, err := p.number(kw)
			if err != nil {
				return nil, err
			}
			spec.maxError = min(n, maxMaxError)
		case "COMPUPDATE", "STATUPDATE":
			if t, ok := p.peek(); ok && (t.is("ON") || t.is("OFF") || t.is("TRUE") || t.is("FALSE") || t.is("PRESET")) {
				p.i++
			}
		case "ACCEPTINVCHARS":
			p.optional("AS")
			if t, ok := p.peek(); ok && t.kind == tokString {
				p.i++
			}
		case "TRUNCATECOLUMNS", "EMPTYASNULL", "EXPLICIT_IDS", "ACCEPTANYDATE", "IGNOREBLANKLINES", "ROUNDEC", "SERIALIZETOJSON":
		case "BLANKSASNULL":
			spec.blanksAsNull = true
		case "FILLRECORD":
			spec.fillRecord = true
		case "TRIMBLANKS":
			spec.trimBlanks = true
		case "ESCAPE":
			spec.escape = true
		case "REMOVEQUOTES":
			spec.removeQuotes = true
		default:
			return nil, errSyntax("syntax error at or near \"%s\": unknown COPY option", t.val)
		}
	}
	if spec.format == formatCSV && !delimiterSet {
		spec.delimiter = ","
	}
	if spec.columnar != "" {
		if err := columnarCheck(spec); err != nil {
			return nil, err
		}
		spec.format = formatParquet
	}
	return spec, nil
}

// maxMaxError is Redshift's ceiling for MAXERROR: larger values are
// lowered to it.
const maxMaxError = 100000

// parseCredentials picks the access key and session token out of a
// CREDENTIALS string ('aws_access_key_id=...;aws_secret_access_key=...;
// token=...' or 'aws_iam_role=...').
func parseCredentials(spec *copySpec, v string) {
	for _, part := range strings.Split(v, ";") {
		k, val, _ := strings.Cut(part, "=")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "aws_access_key_id":
			spec.accessKeyID = strings.TrimSpace(val)
		case "token":
			spec.sessionToken = strings.TrimSpace(val)
		}
	}
}

// jsonOption reads the argument of JSON: 'auto' or 'auto ignorecase'.
// JSONPaths files are not modelled.
func (p *copyParser) jsonOption(spec *copySpec) error {
	spec.format = formatJSON
	p.optional("AS")
	t, ok := p.peek()
	if !ok || t.kind != tokString {
		return nil // bare JSON: treat as 'auto'
	}
	p.i++
	switch strings.ToLower(strings.TrimSpace(t.val)) {
	case "auto":
	case "auto ignorecase":
		spec.jsonIgnoreCase = true
	default:
		return errUnsupported("redshiftsim: JSON option '%s' is not supported (only 'auto' and 'auto ignorecase')", t.val)
	}
	return nil
}
