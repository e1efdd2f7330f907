package config

import (
	"errors"
	"strings"
	"testing"
)

func TestColumnarFormat(t *testing.T) {
	for opt, want := range map[string]string{
		"FORMAT AS PARQUET":                   FormatParquet,
		"format parquet":                      FormatParquet,
		"FORMAT AS ORC SERIALIZETOJSON":       FormatORC,
		"JSON 'auto' GZIP":                    "",
		"CSV DELIMITER 'FORMAT AS PARQUET'":   "",
		"FORMAT AS JSON 'auto'":               "",
		"ACCEPTINVCHARS FORMAT   AS  Parquet": FormatParquet,
	} {
		if got := ColumnarFormat(opt); got != want {
			t.Errorf("ColumnarFormat(%q) = %q, want %q", opt, got, want)
		}
	}
}

// Every option Redshift refuses with a columnar format is refused when the
// config loads, naming the target and the option; the accepted ones pass.
func TestColumnarOptionsRefused(t *testing.T) {
	for _, opt := range refusedWithColumnar {
		src := base + "targets:\n  - redshift: {table: t}\n    s3: {key_prefix: p/}\n  - redshift: {table: pq}\n    s3: {key_prefix: q/}\n    sql_option: \"FORMAT AS PARQUET " + opt + "\"\n"
		_, err := Parse([]byte(src), "test.yaml")
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "targets[1].sql_option") || !strings.Contains(err.Error(), opt+" is not accepted with FORMAT AS PARQUET") {
			t.Errorf("%s: err = %v", opt, err)
		}
	}
	ok := base + "targets:\n  - redshift: {table: pq}\n    s3: {key_prefix: q/}\n    sql_option: \"FORMAT AS PARQUET ACCEPTINVCHARS '?' FILLRECORD SERIALIZETOJSON STATUPDATE OFF\"\n"
	if _, err := Parse([]byte(ok), "test.yaml"); err != nil {
		t.Fatalf("accepted options refused: %v", err)
	}
	// The top-level sql_option is what a target without its own uses.
	top := strings.Replace(base, "sql_option: \"JSON 'auto'\"", "sql_option: \"FORMAT AS ORC GZIP\"", 1) + "targets: [{redshift: {table: t}, s3: {key_prefix: p/}}]\n"
	if _, err := Parse([]byte(top), "test.yaml"); err == nil || !strings.Contains(err.Error(), "targets[0].sql_option: invalid value: GZIP is not accepted with FORMAT AS ORC") {
		t.Fatalf("inherited option: %v", err)
	}
}

// The REGION warning is for a region the Parquet target names itself, not
// the top-level s3.region every original Rin config has and every target
// inherits.
func TestColumnarRegionWarningOnlyForOwnRegion(t *testing.T) {
	inherited := mustParse(t, base+"targets:\n  - redshift: {table: t}\n    s3: {key_prefix: p/}\n    sql_option: FORMAT AS PARQUET\n")
	if len(inherited.Warnings) != 0 {
		t.Errorf("inherited s3.region: warnings %q, want none", inherited.Warnings)
	}
	own := mustParse(t, base+"targets:\n  - redshift: {table: t}\n    s3: {key_prefix: p/, region: eu-west-1}\n    sql_option: FORMAT AS PARQUET\n")
	if len(own.Warnings) != 1 || !strings.Contains(own.Warnings[0], "targets[0]: s3.region is not sent as REGION") {
		t.Errorf("own s3.region: warnings %q, want the REGION warning for targets[0]", own.Warnings)
	}
}
