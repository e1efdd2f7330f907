// Package httpbody works around a race between the AWS SDK and net/http
// that breaks responses: the SDK's clients get an HTTP client that hands
// net/http its own in-memory copy of each request body.
//
// smithy-go (the SDK's transport, through at least v1.28.9) closes a
// request's body as soon as http.Client.Do returns, that is when the
// response headers arrive, and a closed body's WriteTo returns io.EOF.
// net/http's writeLoop makes one last read of the body after sending it; if
// the server answered first (a local emulator answers in microseconds, AWS
// sometimes does), that read meets io.EOF, writeLoop takes it for a failed
// write and closes the connection while the response body is still being
// read. The SDK reports "deserialization failed ... use of closed network
// connection" and retries — but for ReceiveMessage the server had already
// put the response's messages in flight, so they stay hidden for the
// visibility timeout (with goaws, 0.1–1 % of all messages under load), and a
// retried Data API BatchExecuteStatement would run twice. A body the SDK
// does not own cannot be closed under net/http. See aws-sdk-go-v2 issues
// #1825, #2737 and #2935; a later smithy-go fixes WriteTo, and then this
// package can go.
package httpbody

import (
	"bytes"
	"io"
	"net/http"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// MaxBuffered caps the bodies copied; larger ones (a big S3 upload) go out
// as they are. rin's requests are small: SQS and Data API calls, manifests.
const MaxBuffered = 16 << 20

// Doer is the SDK's HTTP client interface (aws.HTTPClient and every
// service's HTTPClient).
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// Buffered wraps next so that each request of known length up to
// MaxBuffered is sent from a private copy of its body. A nil next (an
// aws.Config whose HTTPClient the SDK has not filled in, which is the usual
// case) is the SDK's default client.
func Buffered(next Doer) Doer {
	if next == nil {
		next = awshttp.NewBuildableClient()
	}
	return buffered{next: next}
}

type buffered struct{ next Doer }

func (c buffered) Do(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength <= 0 || r.ContentLength > MaxBuffered {
		return c.next.Do(r)
	}
	b := make([]byte, r.ContentLength)
	_, err := io.ReadFull(r.Body, b)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	// The SDK builds a new request for every attempt, so r is this
	// attempt's own and can be changed in place.
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return c.next.Do(r)
}
