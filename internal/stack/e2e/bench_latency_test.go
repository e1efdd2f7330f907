package e2e

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/rinhq/rin/config"
)

// sqsLatency is RIN_BENCH_SQS_LATENCY: a round trip to add to every SQS
// request in the end-to-end benchmarks, zero when unset. goaws answers in
// about a millisecond on this machine; SQS in a region answers in tens of
// milliseconds, and what rin does per request (receives, deletes, the
// drain's polls) weighs accordingly more there.
func sqsLatency(b *testing.B) time.Duration {
	return time.Duration(envDuration(b, "RIN_BENCH_SQS_LATENCY", 0))
}

// envDuration reads environment variable name as a duration written as in
// the config (15ms, 2s), def when it is unset; a bad value fails b.
func envDuration(b *testing.B, name string, def config.Duration) config.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := config.ParseDuration(v)
	if err != nil || d < 0 {
		b.Fatalf("%s=%q: want a duration such as 15ms", name, v)
	}
	return d
}

// latencyProxy serves target's API after a pause of d per request, until
// the benchmark ends, and returns its URL. It pauses before forwarding, so
// a long poll still lasts its wait on top.
func latencyProxy(b *testing.B, target string, d time.Duration) string {
	u, err := url.Parse(target)
	if err != nil {
		b.Fatalf("SQS endpoint %q: %v", target, err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.Transport = delayed{next: &http.Transport{MaxIdleConnsPerHost: 256}, d: d}
	srv := httptest.NewServer(proxy)
	b.Cleanup(srv.Close)
	return srv.URL
}

type delayed struct {
	next http.RoundTripper
	d    time.Duration
}

// RoundTrip sends r after the pause, from a copy of its body: the body is
// the inbound request's, which the server may close while net/http's
// writeLoop still reads it, and then the connection is closed under the
// response (the race internal/httpbody works around in rin's clients).
func (t delayed) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		body, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	select {
	case <-time.After(t.d):
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	return t.next.RoundTrip(r)
}
