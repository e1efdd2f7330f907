package config

import "testing"

func TestTargetUsesCaptures(t *testing.T) {
	cfg, err := Parse([]byte(`
queue_name: q
redshift: {host: h, dbname: d, user: u, password: p}
s3: {bucket: b}
targets:
  - redshift: {table: plain$name}
    s3: {key_prefix: a/}
  - redshift: {schema: $1, table: t}
    s3: {key_regexp: '^b/([a-z]+)/'}
  - redshift: {table: "t_${1}"}
    s3: {key_regexp: '^c/([a-z]+)/'}
`), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{false, true, true} {
		if got := cfg.Targets[i].UsesCaptures(); got != want {
			t.Errorf("targets[%d].UsesCaptures() = %v, want %v", i, got, want)
		}
		if !cfg.Targets[i].UsesManifest() {
			t.Errorf("targets[%d] does not use a manifest", i)
		}
	}
}
