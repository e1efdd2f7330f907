package config

import (
	"os"
	"path/filepath"
	"testing"
)

// env returns a lookup over m, so tests never touch the process environment.
func env(m map[string]string) Option {
	return WithLookupEnv(func(k string) (string, bool) { v, ok := m[k]; return v, ok })
}

var noEnv = env(nil)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustParse(t *testing.T, src string, opts ...Option) *Config {
	t.Helper()
	c, err := Parse([]byte(src), "test.yaml", append([]Option{noEnv}, opts...)...)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

// base is a minimal valid config that tests extend with targets.
const base = `
queue_name: q
redshift:
  host: rs.example.com
  dbname: db
  user: u
  password: p
s3:
  bucket: b
  region: ap-northeast-1
sql_option: "JSON 'auto'"
`
