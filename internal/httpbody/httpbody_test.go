package httpbody

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// receiveServer answers every request at once with a ReceiveMessage
// response larger than net/http's read buffer, which is what the race needs
// to break a response.
func receiveServer(t *testing.T) string {
	var sb strings.Builder
	sb.WriteString(`{"Messages":[`)
	for i := 0; i < 10; i++ {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `{"MessageId":"m%d","ReceiptHandle":"h%d","Body":"%s"}`, i, i, strings.Repeat("x", 1000))
	}
	sb.WriteString(`]}`)
	resp := []byte(sb.String())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Write(resp)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// receiveFailures makes n ReceiveMessage calls with no retries and counts
// the requests net/http failed to write and the calls that failed.
func receiveFailures(t *testing.T, wrap bool, n int) (writeErrs, failed int64) {
	url := receiveServer(t)
	var werr atomic.Int64
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	var hc Doer = &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		r = r.WithContext(httptrace.WithClientTrace(r.Context(), &httptrace.ClientTrace{
			WroteRequest: func(i httptrace.WroteRequestInfo) {
				if i.Err != nil {
					werr.Add(1)
				}
			},
		}))
		return tr.RoundTrip(r)
	})}
	if wrap {
		hc = Buffered(hc)
	}
	c := sqs.New(sqs.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials:      credentials.NewStaticCredentialsProvider("a", "b", ""),
		RetryMaxAttempts: 1, HTTPClient: hc,
	})
	for i := 0; i < n; i++ {
		out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url + "/q"), MaxNumberOfMessages: 10})
		if err != nil || len(out.Messages) != 10 {
			failed++
		}
	}
	return werr.Load(), failed
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// With the SDK's own body, some of these requests fail to "write" after the
// response has arrived, and some responses break (go test -v shows the
// control run: the race depends on timing, so it is not asserted).
// With Buffered, none may.
func TestBufferedKeepsResponsesWhole(t *testing.T) {
	const n = 1500
	writeErrs, failed := receiveFailures(t, true, n)
	if writeErrs != 0 || failed != 0 {
		t.Errorf("buffered bodies: %d write errors and %d failed calls in %d, want none", writeErrs, failed, n)
	}
	if testing.Verbose() {
		w, f := receiveFailures(t, false, n)
		t.Logf("control, the SDK's own bodies: %d write errors and %d failed calls in %d", w, f, n)
	}
}

func TestBufferedPassesBodiesThrough(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, fmt.Sprintf("%d:%s", r.ContentLength, b))
	}))
	defer srv.Close()
	c := Buffered(http.DefaultClient)
	for _, body := range []string{"hello", ""} {
		r, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		resp, err := c.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if strings.Join(got, ",") != "5:hello,0:" {
		t.Errorf("server got %q", got)
	}
}

// LoadDefaultConfig leaves aws.Config.HTTPClient nil unless told otherwise:
// wrapping that must still give a working client.
func TestBufferedNilIsDefaultClient(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Write(b)
	}))
	defer srv.Close()
	r, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("ping"))
	resp, err := Buffered(nil).Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); string(b) != "ping" {
		t.Errorf("got %q", b)
	}
}
