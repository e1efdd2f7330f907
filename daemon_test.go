package main

import (
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/internal/localaws"
	"github.com/rinhq/rin/internal/stackproc"
)

// TestAWSClientsKeepResponsesWhole: the SQS client rin builds from its
// config drains a real goaws queue with nothing left in flight. Without
// internal/httpbody in awsConfig, some ReceiveMessage responses broke after
// goaws had put their messages in flight, hiding them for the visibility
// timeout. AWS_CA_BUNDLE is cleared so that the SDK leaves the HTTP client
// unset, the case in which rin once panicked at start.
func TestAWSClientsKeepResponsesWhole(t *testing.T) {
	q, err := localaws.StartSQS(t.Context(), localaws.SQSOptions{Logger: stackproc.Logger(t)})
	stackproc.CheckStart(t, err)
	t.Cleanup(func() { q.Stop() })
	for k, v := range map[string]string{"AWS_ENDPOINT_URL_SQS": q.Endpoint(), "AWS_CA_BUNDLE": "", "AWS_PROFILE": "", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"} {
		t.Setenv(k, v)
	}
	ac, err := awsConfig(t.Context(), config.Credentials{AWSRegion: localaws.Region, AWSAccessKeyID: localaws.AccessKeyID, AWSSecretAccessKey: localaws.SecretAccessKey})
	if err != nil {
		t.Fatal(err)
	}
	qurl, err := q.CreateQueue(t.Context(), "rin_whole", localaws.QueueOptions{VisibilityTimeout: 60})
	if err != nil {
		t.Fatal(err)
	}
	stackproc.CheckReceivesWhole(t, q, sqs.NewFromConfig(ac), qurl, 2000)
}

// TestS3PathStyleWithEndpoint: S3 is addressed path-style exactly when the
// SDK's settings name an endpoint, global or S3's own, and virtual-hosted
// otherwise (as AWS wants).
func TestS3PathStyleWithEndpoint(t *testing.T) {
	for _, tc := range []struct {
		name      string
		env       map[string]string
		pathStyle bool
	}{
		{"no endpoint", nil, false},
		{"AWS_ENDPOINT_URL", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}, true},
		{"AWS_ENDPOINT_URL_S3", map[string]string{"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9"}, true},
		{"only SQS's", map[string]string{"AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:9"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_SQS", "AWS_PROFILE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"} {
				t.Setenv(k, tc.env[k])
			}
			t.Setenv("AWS_CONFIG_FILE", "/dev/null")
			t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
			ac, err := awsConfig(t.Context(), config.Credentials{AWSRegion: "eu-west-1", AWSAccessKeyID: "AKIDTEST", AWSSecretAccessKey: "secret"})
			if err != nil {
				t.Fatal(err)
			}
			if got := newS3(ac).Options().UsePathStyle; got != tc.pathStyle {
				t.Errorf("UsePathStyle %v, want %v", got, tc.pathStyle)
			}
		})
	}
}

// TestAWSClientReusesConnections: rin's HTTP client keeps enough idle
// connections per endpoint for the requests it has in flight at once. Each
// round holds 24 requests open together (fewer than rin has on SQS during
// an ack pass); once the first round has opened them, later rounds must
// reuse them. With the SDK's default of 10 idle connections per host, every
// round opened 14 new ones: against a region, a TCP and TLS handshake each.
// Checked with and without a custom CA bundle, with which the SDK builds
// the client itself.
func TestAWSClientReusesConnections(t *testing.T) {
	const inFlight, rounds = 24, 4
	for _, tlsBundle := range []bool{false, true} {
		t.Run(fmt.Sprintf("ca_bundle=%t", tlsBundle), func(t *testing.T) {
			var opened atomic.Int64
			var arrived atomic.Int64
			all := make(chan struct{}) // closed, and replaced, when a round's requests are all in
			var mu sync.Mutex
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				mu.Lock()
				wait := all
				if arrived.Add(1)%inFlight == 0 {
					close(all)
					all = make(chan struct{})
				}
				mu.Unlock()
				select {
				case <-wait:
				case <-time.After(5 * time.Second):
				}
				w.Write([]byte("ok"))
			}))
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					opened.Add(1)
				}
			}
			bundle := ""
			if tlsBundle {
				srv.StartTLS()
				bundle = filepath.Join(t.TempDir(), "ca.pem")
				if err := os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
					t.Fatal(err)
				}
			} else {
				srv.Start()
			}
			defer srv.Close()
			for k, v := range map[string]string{"AWS_CA_BUNDLE": bundle, "AWS_PROFILE": "", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"} {
				t.Setenv(k, v)
			}
			ac, err := awsConfig(t.Context(), config.Credentials{AWSRegion: "eu-west-1", AWSAccessKeyID: "AKIDTEST", AWSSecretAccessKey: "secret"})
			if err != nil {
				t.Fatal(err)
			}
			var warm int64
			for round := range rounds {
				var wg sync.WaitGroup
				for range inFlight {
					wg.Go(func() {
						body := "Action=ReceiveMessage"
						req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, strings.NewReader(body))
						req.ContentLength = int64(len(body))
						resp, err := ac.HTTPClient.Do(req)
						if err != nil {
							t.Error(err)
							return
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					})
				}
				wg.Wait()
				if round == 0 {
					warm = opened.Load()
				}
			}
			if n := opened.Load() - warm; n != 0 {
				t.Errorf("after the first round, %d rounds of %d concurrent requests opened %d more connections, want 0", rounds-1, inFlight, n)
			}
		})
	}
}
