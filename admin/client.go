package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"syscall"
	"time"
)

// Client performs the operations through a running rin's admin socket.
type Client struct {
	hc     *http.Client
	base   string
	health Health
}

var _ Service = (*Client)(nil)

// Dial connects to rin's admin socket and asks /healthz. It returns
// ErrNotRunning when no rin answers (no socket, or a stale one), which
// callers take as "open the file yourself"; a socket owned by another user
// is refused with ErrSocketOwner before anything is sent to it.
func Dial(ctx context.Context, socket string) (*Client, error) {
	exists, err := checkSocketPath(socket)
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, fmt.Errorf("no admin socket at %s: %w", socket, ErrNotRunning)
	}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
		DisableCompression: true,
	}
	c := &Client{hc: &http.Client{Transport: tr}, base: "http://rin"}
	hctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := c.do(hctx, http.MethodGet, "/healthz", nil, &c.health); err != nil {
		tr.CloseIdleConnections()
		if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
			return nil, fmt.Errorf("admin socket %s is stale: %w", socket, ErrNotRunning)
		}
		return nil, fmt.Errorf("admin socket %s: %w", socket, err)
	}
	return c, nil
}

// Health is what rin answered when the client connected.
func (c *Client) Health() Health { return c.health }

// Close releases idle connections.
func (c *Client) Close() error {
	c.hc.CloseIdleConnections()
	return nil
}

// Dump streams the jobs rin sends, one JSON object per line.
func (c *Client) Dump(ctx context.Context, f Filter, fn func(Record) error) error {
	if err := f.Validate(); err != nil {
		return err
	}
	resp, err := c.request(ctx, http.MethodGet, "/v1/jobs?"+f.query().Encode(), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var rec Record
		err := dec.Decode(&rec)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("dump: reading from rin: %w", err)
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
}

// Rejected streams the rejected messages rin sends, one per line.
func (c *Client) Rejected(ctx context.Context, f RejectedFilter, fn func(RejectedRecord) error) error {
	if err := f.Validate(); err != nil {
		return err
	}
	resp, err := c.request(ctx, http.MethodGet, "/v1/rejected?"+f.query().Encode(), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var rec RejectedRecord
		err := dec.Decode(&rec)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("rejected messages: reading from rin: %w", err)
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
}

// Stats asks rin for the journal's summary.
func (c *Client) Stats(ctx context.Context, o StatsOptions) (Stats, error) {
	q := url.Values{}
	if o.TopErrors > 0 {
		q.Set("top", strconv.Itoa(o.TopErrors))
	}
	if o.ErrorsSince > 0 {
		q.Set("errors_since", o.ErrorsSince.String())
	}
	var st Stats
	return st, c.do(ctx, http.MethodGet, "/v1/stats?"+q.Encode(), nil, &st)
}

// Requeue asks rin to requeue; rin's engine picks the jobs up at once.
func (c *Client) Requeue(ctx context.Context, r RequeueRequest) ([]Record, error) {
	var resp requeueResponse
	if err := c.do(ctx, http.MethodPost, "/v1/requeue", r, &resp); err != nil {
		return nil, err
	}
	return resp.Requeued, nil
}

// Forget asks rin to drop acked jobs older than olderThan.
func (c *Client) Forget(ctx context.Context, olderThan time.Duration) (ForgetResult, error) {
	var res ForgetResult
	return res, c.do(ctx, http.MethodPost, "/v1/forget", forgetRequest{OlderThan: olderThan.String()}, &res)
}

// Check asks rin to verify the journal it holds.
func (c *Client) Check(ctx context.Context) ([]string, error) {
	var resp checkResponse
	return resp.Problems, c.do(ctx, http.MethodGet, "/v1/check", nil, &resp)
}

// do sends a request and decodes a JSON answer into out.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	resp, err := c.request(ctx, method, path, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("reading rin's answer to %s: %w", path, err)
	}
	return nil
}

// request sends a request and turns a non-2xx answer into an error.
func (c *Client) request(ctx context.Context, method, path string, in any) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		var we wireError
		json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&we)
		return nil, decodeError(we, resp.StatusCode)
	}
	return resp, nil
}
