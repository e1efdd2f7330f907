package config

import (
	"regexp"
	"strings"
)

// Redshift loads Parquet and ORC through Spectrum, with its own rules: no
// REGION (the bucket must be in the cluster's region), a manifest entry
// must carry meta.content_length, and only a short list of COPY options is
// accepted. A config that asks for more would fail every COPY of the
// target at run time, so it is refused when the config loads, naming the
// target and the option.

// Columnar formats.
const (
	FormatParquet = "PARQUET"
	FormatORC     = "ORC"
)

var columnarFormat = regexp.MustCompile(`(?i)\bFORMAT\s+(?:AS\s+)?(PARQUET|ORC)\b`)

// ColumnarFormat returns PARQUET or ORC when a COPY option text loads a
// columnar format, "" otherwise. String literals are ignored.
func ColumnarFormat(sqlOption string) string {
	m := columnarFormat.FindStringSubmatch(sqlLiteral.ReplaceAllString(sqlOption, "''"))
	if m == nil {
		return ""
	}
	return strings.ToUpper(m[1])
}

// refusedWithColumnar are the COPY options Redshift refuses for Parquet
// and ORC. It accepts only FORMAT AS, the credentials, MANIFEST,
// ACCEPTINVCHARS, FILLRECORD, SERIALIZETOJSON, EXPLICIT_IDS and STATUPDATE.
var refusedWithColumnar = []string{
	"GZIP", "BZIP2", "LZOP", "ZSTD", "IGNOREHEADER", "MAXERROR", "ACCEPTANYDATE", "BLANKSASNULL",
	"DATEFORMAT", "TIMEFORMAT", "DELIMITER", "CSV", "JSON", "AVRO", "FIXEDWIDTH", "SHAPEFILE",
	"EMPTYASNULL", "ENCODING", "ESCAPE", "IGNOREBLANKLINES", "NULL", "REMOVEQUOTES", "ROUNDEC",
	"TRIMBLANKS", "TRUNCATECOLUMNS", "COMPROWS", "COMPUPDATE", "NOLOAD", "REGION", "READRATIO", "ENCRYPTED",
}

var sqlWord = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)

// columnarProblems returns the options of sqlOption Redshift refuses for
// its columnar format, in the order written.
func columnarProblems(sqlOption string) []string {
	var out []string
	for _, w := range sqlWord.FindAllString(sqlLiteral.ReplaceAllString(sqlOption, "''"), -1) {
		up := strings.ToUpper(w)
		for _, r := range refusedWithColumnar {
			if up == r {
				out = append(out, up)
			}
		}
	}
	return out
}

// columnar validates a target loading Parquet or ORC.
func (r *resolver) columnar(t *Target, p string) {
	format := ColumnarFormat(t.SQLOption)
	if format == "" || t.Discard {
		return
	}
	for _, opt := range columnarProblems(t.SQLOption) {
		r.v.add(p+".sql_option", ErrInvalid, "%s is not accepted with FORMAT AS %s (Redshift allows only ACCEPTINVCHARS, FILLRECORD, SERIALIZETOJSON, EXPLICIT_IDS, STATUPDATE and MANIFEST with columnar formats; Parquet compression is read from the file)", opt, format)
	}
	// Only a region the target names itself: the top-level s3.region of an
	// original Rin config is inherited by every target, Parquet or not.
	if t.S3.Region != "" && r.v.has(p+".s3.region") {
		r.warn(p + ": s3.region is not sent as REGION for FORMAT AS " + format + " (Redshift refuses REGION for columnar COPY); the bucket must be in the cluster's region")
	}
}
