package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/rinhq/rin/internal/stack"
	"github.com/rinhq/rin/internal/stack/stacktest"
)

// lambdaFn is rin deployed as a Lambda function on the local stack: its
// config in S3 (RIN_CONFIG=s3://...), one emulator per execution
// environment, and an event source mapping (stack.ESM) feeding them from
// the test's queue.
type lambdaFn struct {
	e   *env
	fns []*stack.Lambda
	esm *stack.ESM
	tmp string // the functions' TMPDIR: per-invocation journals go there

	mu   sync.Mutex
	invs []stack.Invocation
}

// lambdaTimeout is the function timeout of the tests; the queue's
// visibility timeout is six times it, as the deployment guide asks.
const lambdaTimeout = 10 * time.Second

// deployLambda uploads a config for targets to S3 and starts n emulators
// running the rin binary. SQS's endpoint is set to a closed port: in Lambda
// mode rin must never call SQS.
func (e *env) deployLambda(targets string, n int, extraEnv ...string) *lambdaFn {
	e.t.Helper()
	cfgPath := e.writeConfig("config.yaml", targets, "")
	data, err := os.ReadFile(cfgPath)
	if err != nil {
		e.t.Fatal(err)
	}
	key := "rin-config/config.yaml"
	if _, _, err := e.st.S3().PutObject(context.Background(), e.bucket, key, data); err != nil {
		e.t.Fatal(err)
	}
	f := &lambdaFn{e: e, tmp: filepath.Join(e.dir, "lambda-tmp")}
	if err := os.MkdirAll(f.tmp, 0o755); err != nil {
		e.t.Fatal(err)
	}
	fnEnv := []string{"RIN_CONFIG=s3://" + e.bucket + "/" + key, "TMPDIR=" + f.tmp}
	for _, kv := range e.st.Env() {
		if strings.HasPrefix(kv, "AWS_ENDPOINT_URL_SQS=") {
			kv = "AWS_ENDPOINT_URL_SQS=http://127.0.0.1:9" // discard: nothing listens
		}
		fnEnv = append(fnEnv, kv)
	}
	fnEnv = append(fnEnv, extraEnv...)
	for i := 0; i < n; i++ {
		f.fns = append(f.fns, e.startLambda(fnEnv))
	}
	arn, err := e.st.SQS().QueueARN(context.Background(), e.queueURL)
	if err != nil {
		e.t.Fatal(err)
	}
	f.esm = &stack.ESM{Client: e.st.SQS().Client(), QueueURL: e.queueURL, QueueARN: arn, BatchSize: 10, Window: 200 * time.Millisecond, Release: true}
	return f
}

// startLambda starts one emulator (execution environment) of rin.
func (e *env) startLambda(fnEnv []string) *stack.Lambda {
	e.t.Helper()
	logPath := filepath.Join(e.dir, fmt.Sprintf("lambda-%d.log", len(e.logs)+1))
	e.logs = append(e.logs, logPath)
	l, err := stack.StartLambda(context.Background(), stack.LambdaOptions{
		Bootstrap: rinBin, Env: fnEnv, Timeout: lambdaTimeout, Dir: e.dir, LogPath: logPath,
		Logger: stacktest.Logger(e.t),
	})
	if err != nil {
		e.t.Fatalf("start lambda emulator: %v", err)
	}
	e.t.Cleanup(func() { l.Stop() })
	return l
}

// drain runs one poller per emulator until done holds (by default: the
// queue holds no message, visible or in flight) or timeout passes. Every
// invocation is kept for the test's assertions.
func (f *lambdaFn) drain(timeout time.Duration, done func() bool) {
	f.e.t.Helper()
	if done == nil {
		done = f.e.queueEmpty
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(f.fns))
	for i, fn := range f.fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				inv, ok, err := f.esm.Poll(ctx, fn)
				if err != nil {
					errs[i] = err
					return
				}
				if ok {
					f.record(inv)
				}
				if done() {
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && ctx.Err() == nil {
			f.e.t.Fatalf("event source mapping: %v", err)
		}
	}
	if !done() {
		f.e.t.Fatalf("not drained within %s (%d invocations)", timeout, len(f.invocations()))
	}
}

func (f *lambdaFn) record(inv stack.Invocation) {
	f.mu.Lock()
	f.invs = append(f.invs, inv)
	f.mu.Unlock()
}

func (f *lambdaFn) invocations() []stack.Invocation {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]stack.Invocation(nil), f.invs...)
}

// assertAnswered checks that every invocation answered within the rules:
// no function error, no invalid response, within the function timeout;
// and that it returned no record outside allowed.
func (f *lambdaFn) assertAnswered(allowed map[string]bool) {
	f.e.t.Helper()
	for i, inv := range f.invocations() {
		o := inv.Outcome
		if o.FunctionError != "" || o.Invalid != "" {
			f.e.t.Errorf("invocation %d: function error %q, invalid response %q", i, o.FunctionError, o.Invalid)
		}
		if inv.Result.Took >= lambdaTimeout {
			f.e.t.Errorf("invocation %d took %s, not within the %s timeout", i, inv.Result.Took, lambdaTimeout)
		}
		for _, id := range o.Failures {
			if !allowed[id] {
				f.e.t.Errorf("invocation %d returned record %s", i, id)
			}
		}
	}
}

// assertClean checks what every Lambda test must leave: no journal left in
// the functions' temp dir, and no secret in any log.
func (f *lambdaFn) assertClean() {
	f.e.t.Helper()
	left, _ := filepath.Glob(filepath.Join(f.tmp, "rin-lambda-*"))
	if len(left) > 0 {
		f.e.t.Errorf("invocation journals left behind: %v", left)
	}
	f.e.assertNoSecrets()
}

// sendAll puts bodies on the test's queue and returns their message ids.
func (e *env) sendAll(bodies []string) []string {
	e.t.Helper()
	var ids []string
	for _, b := range bodies {
		id, err := e.st.SQS().SendMessage(context.Background(), e.queueURL, b)
		if err != nil {
			e.t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// logCount counts the lines of the test's logs containing s.
func (e *env) logCount(s string) int { return len(logLines(e, s)) }

// logLines returns the lines of the test's logs containing s.
func logLines(e *env, s string) []string {
	var out []string
	for _, p := range e.logs {
		b, _ := os.ReadFile(p)
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, s) {
				out = append(out, line)
			}
		}
	}
	return out
}
