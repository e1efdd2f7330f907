package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"
)

// table is one demo table: where a target loads and what it should hold.
type table struct {
	Schema, Name string
	Columns      string // CREATE TABLE column list, matching the JSON keys
	Want         int64  // rows the demo's objects put there
	Objects      int    // objects routed there
}

// QName is schema.table for people (the identifiers need no quoting).
func (t *table) QName() string { return t.Schema + "." + t.Name }

// sample is one uploaded object.
type sample struct {
	Key  string
	Body []byte
	Rows int
	Dest *table // nil: the discard target drops it
}

// plan is everything the demo uploads and expects, fixed before anything
// starts so the summary can compare rin's work against it.
type plan struct {
	Tables  []*table
	Samples []sample
}

// Column lists of the three kinds of log. JSON 'auto' maps the objects'
// keys to these names.
const (
	eventColumns  = "ts timestamp, user_id bigint, session varchar(36), event varchar(32), path varchar(256), country char(2)"
	accessColumns = "ts timestamp, host varchar(64), method varchar(8), path varchar(256), status int, bytes bigint, latency_ms double precision, user_agent varchar(256), request_id varchar(36)"
	errorColumns  = "ts timestamp, level varchar(8), service varchar(32), message varchar(512), trace_id varchar(36)"
)

// Key layout, one prefix per target (see config.go).
const (
	discardPrefix = "tmp/"    // the discard target: scratch files that must never load
	eventsPrefix  = "events/" // the key_prefix target, gzip-compressed
	logsRegexp    = `^logs/(app|web)/([a-z]+)/`
)

// minObjects is the fewest objects that still show every target, every
// table and every message shape.
const minObjects = 10

// newPlan lays out n objects: a tenth discarded scratch files, three
// tenths gzip-compressed product events, a tenth Parquet order exports,
// the rest access and error logs of two services (the key_regexp target's
// two schemas by two tables). The random source is seeded, so every run
// uploads the same data.
func newPlan(n int) (*plan, error) {
	if n < minObjects {
		return nil, fmt.Errorf("-objects %d: need at least %d to show every target", n, minObjects)
	}
	events := &table{Schema: "demo", Name: "events", Columns: eventColumns}
	orders := &table{Schema: "demo", Name: "orders", Columns: orderColumns}
	p := &plan{Tables: []*table{events, orders}}
	logs := map[string]*table{}
	for _, schema := range []string{"app", "web"} {
		for _, kind := range []string{"access", "error"} {
			t := &table{Schema: schema, Name: kind, Columns: accessColumns}
			if kind == "error" {
				t.Columns = errorColumns
			}
			logs[schema+"/"+kind] = t
			p.Tables = append(p.Tables, t)
		}
	}
	rng := rand.New(rand.NewPCG(20250601, 42))
	base := time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC)
	logKinds := []string{"app/access", "web/access", "app/error", "web/error"}
	nlog := 0
	for i := range n {
		at := base.Add(time.Duration(i) * 37 * time.Second)
		hour := at.Format("2006/01/02/15")
		rows := 5 + rng.IntN(36)
		var s sample
		switch i % 10 {
		case 9:
			s = sample{Key: fmt.Sprintf("%sexport-%04d.json", discardPrefix, i), Body: eventLines(rng, at, rows)}
		case 1, 4, 7:
			gz, err := gzipped(eventLines(rng, at, rows))
			if err != nil {
				return nil, err
			}
			s = sample{Key: fmt.Sprintf("%s%s/events-%04d.json.gz", eventsPrefix, hour, i), Body: gz, Dest: events}
		case 5:
			pq, err := orderFile(rng, at, int64(i)*1000, rows)
			if err != nil {
				return nil, err
			}
			s = sample{Key: fmt.Sprintf("%s%s/orders-%04d.parquet", ordersPrefix, hour, i), Body: pq, Dest: orders}
		default:
			kind := logKinds[nlog%len(logKinds)]
			nlog++
			body := accessLines(rng, at, rows)
			if kind == "app/error" || kind == "web/error" {
				body = errorLines(rng, at, rows)
			}
			s = sample{Key: fmt.Sprintf("logs/%s/%s/part-%04d.json", kind, hour, i), Body: body, Dest: logs[kind]}
		}
		s.Rows = rows
		if s.Dest != nil {
			s.Dest.Want += int64(rows)
			s.Dest.Objects++
		}
		p.Samples = append(p.Samples, s)
	}
	return p, nil
}

// Loadable counts the objects some table should receive.
func (p *plan) Loadable() (objects int, rows int64) {
	for _, t := range p.Tables {
		objects += t.Objects
		rows += t.Want
	}
	return objects, rows
}

// Discarded counts the objects the discard target drops.
func (p *plan) Discarded() int {
	n := 0
	for _, s := range p.Samples {
		if s.Dest == nil {
			n++
		}
	}
	return n
}

func gzipped(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return buf.Bytes(), nil
}

// tsLayout is Redshift's default TIMEFORMAT, so the lines would load into a
// real cluster unchanged.
const tsLayout = "2006-01-02 15:04:05"

func jsonLines[T any](n int, line func(i int) T) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b) // one object per line, as log shippers write them
	enc.SetEscapeHTML(false)
	for i := range n {
		_ = enc.Encode(line(i)) // plain structs of strings and numbers cannot fail
	}
	return b.Bytes()
}

func eventLines(rng *rand.Rand, at time.Time, n int) []byte {
	type event struct {
		TS      string `json:"ts"`
		UserID  int64  `json:"user_id"`
		Session string `json:"session"`
		Event   string `json:"event"`
		Path    string `json:"path"`
		Country string `json:"country"`
	}
	kinds := []string{"page_view", "page_view", "page_view", "add_to_cart", "search", "checkout", "sign_in"}
	countries := []string{"JP", "US", "DE", "FR", "BR", "IN", "GB"}
	return jsonLines(n, func(i int) event {
		return event{
			TS:      at.Add(time.Duration(i) * 700 * time.Millisecond).Format(tsLayout),
			UserID:  100000 + rng.Int64N(90000),
			Session: uuidish(rng),
			Event:   pick(rng, kinds),
			Path:    fmt.Sprintf("/products/%d", 1+rng.IntN(500)),
			Country: pick(rng, countries),
		}
	})
}

func accessLines(rng *rand.Rand, at time.Time, n int) []byte {
	type access struct {
		TS        string  `json:"ts"`
		Host      string  `json:"host"`
		Method    string  `json:"method"`
		Path      string  `json:"path"`
		Status    int     `json:"status"`
		Bytes     int64   `json:"bytes"`
		LatencyMS float64 `json:"latency_ms"`
		UserAgent string  `json:"user_agent"`
		RequestID string  `json:"request_id"`
	}
	paths := []string{"/", "/api/v1/orders", "/api/v1/cart", "/api/v1/products?page=2", "/healthz", "/login", "/static/app.js"}
	statuses := []int{200, 200, 200, 200, 200, 201, 204, 301, 304, 400, 404, 500, 503}
	agents := []string{
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
		"curl/8.5.0", "ELB-HealthChecker/2.0",
	}
	return jsonLines(n, func(i int) access {
		return access{
			TS:        at.Add(time.Duration(i) * 300 * time.Millisecond).Format(tsLayout),
			Host:      fmt.Sprintf("ip-10-0-%d-%d", rng.IntN(4), 10+rng.IntN(240)),
			Method:    pick(rng, []string{"GET", "GET", "GET", "POST", "PUT", "DELETE"}),
			Path:      pick(rng, paths),
			Status:    pick(rng, statuses),
			Bytes:     rng.Int64N(250000),
			LatencyMS: float64(rng.IntN(250000)) / 1000,
			UserAgent: pick(rng, agents),
			RequestID: uuidish(rng),
		}
	})
}

func errorLines(rng *rand.Rand, at time.Time, n int) []byte {
	type logLine struct {
		TS      string `json:"ts"`
		Level   string `json:"level"`
		Service string `json:"service"`
		Message string `json:"message"`
		TraceID string `json:"trace_id"`
	}
	messages := []string{
		"payment gateway timeout after 30s: context deadline exceeded",
		`upstream "inventory" returned 503 Service Unavailable`,
		"pq: duplicate key value violates unique constraint \"orders_pkey\"",
		"retrying SQS ReceiveMessage: connection reset by peer",
		"cache miss storm: 1200 misses/s on key prefix session:",
	}
	return jsonLines(n, func(i int) logLine {
		return logLine{
			TS:      at.Add(time.Duration(i) * 2 * time.Second).Format(tsLayout),
			Level:   pick(rng, []string{"WARN", "ERROR", "ERROR", "FATAL"}),
			Service: pick(rng, []string{"checkout", "inventory", "auth", "search"}),
			Message: pick(rng, messages),
			TraceID: uuidish(rng),
		}
	})
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

// uuidish is a random id in UUID form (from the seeded source, unlike
// uuid.NewString, so the data is the same on every run).
func uuidish(rng *rand.Rand) string {
	a, b := rng.Uint64(), rng.Uint64()
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}
