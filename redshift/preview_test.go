package redshift

import (
	"strings"
	"testing"

	"github.com/rinhq/rin/config"
)

// CopySpec builds the loader's statement: the secret only in SQL, masked
// in Redacted, REGION left out for Parquet.
func TestCopySpec(t *testing.T) {
	s := CopySpec{Schema: "s", Table: `we"ird`, From: ManifestURI(config.Manifest{Prefix: "_rin/manifests/"}, "b", "x"), Region: "eu-west-1", Manifest: true, SQLOption: "JSON 'auto'"}
	secret := "aws_access_key_id=AKIA0000000000000000;aws_secret_access_key=hush"
	want := `/* Rin */ COPY "s"."we""ird" FROM 's3://b/_rin/manifests/x.manifest' CREDENTIALS '` + secret + `' REGION 'eu-west-1' MANIFEST JSON 'auto'`
	if got := s.SQL(secret); got != want {
		t.Errorf("SQL:\n%s\nwant\n%s", got, want)
	}
	if got := s.Redacted(); strings.Contains(got, "hush") || !strings.Contains(got, "CREDENTIALS '[REDACTED]'") {
		t.Errorf("Redacted: %s", got)
	}
	s.SQLOption = "FORMAT AS PARQUET"
	if got := s.Redacted(); strings.Contains(got, "REGION") {
		t.Errorf("Parquet with REGION: %s", got)
	}
	if got := ManifestURI(config.Manifest{Bucket: "m", Prefix: "p"}, "b", "x"); got != "s3://m/p/x.manifest" {
		t.Errorf("ManifestURI with manifest.bucket: %s", got)
	}
}
