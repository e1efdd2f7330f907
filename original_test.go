package main

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/sqsx"
)

// testdata/original holds the original Rin's test fixtures (its test/
// directory, github.com/fujiwara/Rin, MIT), byte for byte. These tests
// feed each event through sqsx and each config through config.Load, and
// check that rin does with them what the original does (its event_test.go
// and config_test.go): the same records loaded or skipped, the same
// targets, tables and options, the same configs refused.

const originalDir = "testdata/original"

// originalEvents is what the original makes of each event fixture: its
// records, or ErrTestEvent for the test events it skips.
var originalEvents = map[string]struct {
	records []sqsx.Record
	err     error
}{
	"event.json": {records: []sqsx.Record{{
		Bucket: "test.bucket.test", Key: "foo/bar.json", Size: 443, ETag: "86fcdfb65af50a994cf63ddd280cea0d",
		EventName: "ObjectCreated:Put", EventTime: time.Date(2015, 4, 21, 4, 55, 48, 282e6, time.UTC),
	}}},
	"notification.json": {records: []sqsx.Record{{
		Bucket: "test.bucket.test", Key: "test/foo/bar.json", Size: 443, ETag: "86fcdfb65af50a994cf63ddd280cea0d",
		EventName: "ObjectCreated:Put", EventTime: time.Date(2015, 4, 21, 4, 55, 48, 282e6, time.UTC),
	}}},
	"testevent.json": {err: sqsx.ErrTestEvent},
	// An SNS envelope without "Type" around a test event: skipped, not
	// rejected as poison.
	"testeventsns.json": {err: sqsx.ErrTestEvent},
}

func TestOriginalEventFixtures(t *testing.T) {
	for name, want := range originalEvents {
		t.Run(name, func(t *testing.T) {
			recs, err := sqsx.ParseBody(readOriginal(t, name))
			if !errors.Is(err, want.err) { // errors.Is(err, nil) holds only for a nil err
				t.Fatalf("error %v, want %v", err, want.err)
			}
			if !slices.Equal(recs, want.records) {
				t.Errorf("records\n%+v\nwant\n%+v", recs, want.records)
			}
		})
	}
}

// TestOriginalEventKeys: the original's event_test.go decodes a key with
// %XX escapes. It decodes only keys that contain '%', so it leaves "+" as
// it is; rin decodes every key, "+" being a space in S3's encoding (by
// design, README.md "Differences from the original Rin"), so for "+" this
// asserts rin's documented behaviour, not the original's.
func TestOriginalEventKeys(t *testing.T) {
	event := readOriginal(t, "event.json")
	for key, want := range map[string]string{
		"foo/bar%3Dbaz.json": "foo/bar=baz.json", // the original's case
		"foo/a+b.json":       "foo/a b.json",     // the original: "foo/a+b.json"
		"foo/a%2Bb.json":     "foo/a+b.json",     // how S3 sends a real "+"
	} {
		recs, err := sqsx.ParseBody(strings.Replace(event, `"foo/bar.json"`, `"`+key+`"`, 1))
		if err != nil || len(recs) != 1 || recs[0].Key != want {
			t.Errorf("key %q: %+v, %v; want %q", key, recs, err, want)
		}
	}
}

// originalRoutes is the original's config_test.go table for config.yml,
// config.yml.iam_role (and config.redshift-data.yml, the same targets):
// the table of the last target that loads the object and its option; ""
// when nothing is loaded.
var originalRoutes = []struct {
	bucket, key, table, option string
}{
	{"test.bucket.test", "test/foo/xxx.json", `"foo"`, `JSON 'auto' GZIP`},
	{"test.bucket.test", "test/foo/discard/xxx.json", "", ""},
	{"test.bucket.test", "test/bar/break", `"xxx"."bar_break"`, `CSV DELIMITER ',' ESCAPE`},
	{"test.bucket.test", "test/bar/y's.csv", `"xxx"."bar"`, `CSV DELIMITER ',' ESCAPE`},
	{"example.bucket", "test/s1/t256/aaa.json", `"s1"."t256"`, `JSON 'auto' GZIP`},
	// The keys of the event fixtures: notification.json's is loaded into
	// foo, event.json's matches no target.
	{"test.bucket.test", "test/foo/bar.json", `"foo"`, `JSON 'auto' GZIP`},
	{"test.bucket.test", "foo/bar.json", "", ""},
}

// originalConfigs is what the original does with each config fixture.
var originalConfigs = map[string]struct {
	err     error // the original refuses it too
	targets int
	routes  bool // originalRoutes apply
	check   func(t *testing.T, c *config.Config)
}{
	"config.yml": {targets: 5, routes: true, check: func(t *testing.T, c *config.Config) {
		if cr := c.Credentials; cr.AWSAccessKeyID != "AAA" || cr.AWSSecretAccessKey != "SSS" || cr.AWSRegion != "ap-northeast-1" {
			t.Errorf("credentials %+v", cr)
		}
		for _, tg := range c.Targets {
			if !tg.Redshift.ReconnectOnError {
				t.Errorf("%s: reconnect_on_error must be true", tg.Name())
			}
		}
	}},
	"config.yml.iam_role": {targets: 5, routes: true, check: func(t *testing.T, c *config.Config) {
		if cr := c.Credentials; cr.AWSIAMRole != "arn:aws:iam::123456789012:role/rin" || cr.HasKeys() {
			t.Errorf("credentials %+v", cr)
		}
	}},
	"config.redshift-data.yml": {targets: 5, routes: true, check: func(t *testing.T, c *config.Config) {
		if r := c.Redshift; r.Driver != "redshift-data" || r.Cluster != "mycluster" || r.DBName != "test" || r.User != "test_user" {
			t.Errorf("redshift %+v", r)
		}
	}},
	"localstack.yml": {targets: 1, check: func(t *testing.T, c *config.Config) {
		if got, _ := loadedTable(t, c, "rin-test", "test_xxx/foo/1.json"); got != `"foo"` {
			t.Errorf("test_xxx/foo/1.json: loaded into %s, want \"foo\"", got)
		}
		if r := c.Redshift; r.Host != "localhost" || r.Port != 4577 || r.User != "root" {
			t.Errorf("redshift %+v", r)
		}
	}},
	"config.yml.invalid_regexp": {err: config.ErrRegexp},
	"config.yml.no_key_matcher": {err: config.ErrRequired},
	// Named in the original's config_test.go, absent on purpose.
	"config.yml.not_found": {err: config.ErrLocation},
}

func TestOriginalConfigFixtures(t *testing.T) {
	env := config.WithLookupEnv(func(k string) (string, bool) {
		if k == "AWS_SECRET_ACCESS_KEY" { // config.yml's must_env; the original's test sets it
			return "SSS", true
		}
		return "", false
	})
	for name, want := range originalConfigs {
		t.Run(name, func(t *testing.T) {
			c, err := config.Load(t.Context(), filepath.Join(originalDir, name), env)
			if want.err != nil {
				if !errors.Is(err, want.err) {
					t.Fatalf("error %v, want %v", err, want.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Targets) != want.targets {
				t.Fatalf("%d targets, want %d", len(c.Targets), want.targets)
			}
			if want.routes {
				for _, r := range originalRoutes {
					table, option := loadedTable(t, c, r.bucket, r.key)
					if table != r.table || option != r.option {
						t.Errorf("%s/%s: loaded into %s with %q, want %s with %q", r.bucket, r.key, table, option, r.table, r.option)
					}
				}
			}
			if want.check != nil {
				want.check(t, c)
			}
		})
	}
}

// TestOriginalFixturesCovered: every file of testdata/original is checked
// above, so a fixture added there cannot go untested.
func TestOriginalFixturesCovered(t *testing.T) {
	entries, err := os.ReadDir(originalDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		_, event := originalEvents[e.Name()]
		_, conf := originalConfigs[e.Name()]
		if !event && !conf {
			t.Errorf("%s/%s is not checked by these tests", originalDir, e.Name())
		}
	}
	if len(entries) != len(originalEvents)+len(originalConfigs)-1 { // -1: config.yml.not_found
		t.Errorf("%d fixtures, want %d: %v", len(entries), len(originalEvents)+len(originalConfigs)-1, slices.Sorted(maps.Keys(originalConfigs)))
	}
}

// loadedTable is the table (quoted as in COPY) and option of the last
// target that loads bucket/key, as the original's test keeps the SQL of
// the last target it builds; "" when none loads it.
func loadedTable(t *testing.T, c *config.Config, bucket, key string) (table, option string) {
	t.Helper()
	for _, r := range c.Route(bucket, key) {
		if r.Err != nil {
			t.Fatalf("%s/%s: %v", bucket, key, r.Err)
		}
		if r.Discard {
			continue
		}
		table, option = `"`+r.Table+`"`, r.SQLOption
		if r.Schema != "" {
			table = `"` + r.Schema + `".` + table
		}
		if r.S3.Region != "ap-northeast-1" {
			t.Errorf("%s/%s: REGION %q, want ap-northeast-1", bucket, key, r.S3.Region)
		}
	}
	return table, option
}

func readOriginal(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(originalDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
