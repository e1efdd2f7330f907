// Package stackproc runs the local AWS stack (internal/stack) as a separate
// process, rin-stack built from the stack's own module, for the tests of
// rin's module: they reach PostgreSQL, the Redshift simulator, S3 and goaws
// over the network and steer faults through rin-stack's control endpoints,
// so rin's go.mod requires none of the emulators the stack runs in process
// (gofakes3, parquet-go). It also holds the test helpers that the stack's
// own stacktest shares.
//
// A package-level `var shared stackproc.Shared` plus
// `func TestMain(m *testing.M) { stackproc.Main(m, &shared) }` shares one
// stack per test binary; tests call shared.Get(t), which starts it on first
// use. A missing PostgreSQL skips (fails under CI=true), as stacktest does.
package stackproc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rinhq/rin/internal/localaws"
	"github.com/rinhq/rin/internal/proc"
)

// startTimeout bounds a stack start, which may include building rin-stack
// and goaws.
const startTimeout = 5 * time.Minute

// Stack is a running rin-stack process.
type Stack struct {
	child   *proc.Child
	dir     string
	env     map[string]string
	control string
	s3      *s3.Client
}

// Options configures Start.
type Options struct {
	// RedshiftPassword is the password the simulator demands (empty: any).
	RedshiftPassword string
}

var (
	buildOnce sync.Once
	buildBin  string
	buildErr  error
	buildDir  string
)

// binary builds rin-stack once per process from the stack module (the go
// build cache makes later builds cheap) into a temporary directory.
func binary(ctx context.Context) (string, error) {
	buildOnce.Do(func() {
		root, err := proc.ModuleRoot(ctx)
		if err != nil {
			buildErr = err
			return
		}
		if buildDir, err = os.MkdirTemp("", "rin-stackproc-"); err != nil {
			buildErr = err
			return
		}
		bin := filepath.Join(buildDir, "rin-stack")
		cmd := exec.CommandContext(ctx, proc.GoTool(), "build", "-o", bin, "./cmd/rin-stack")
		cmd.Dir = filepath.Join(root, filepath.FromSlash(proc.StackModule))
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/rin-stack in %s: %w\n%s", cmd.Dir, err, out)
			return
		}
		buildBin = bin
	})
	return buildBin, buildErr
}

// Start builds and starts rin-stack and returns once the stack is up.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	bin, err := binary(ctx)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "rin-stackproc-run-")
	if err != nil {
		return nil, err
	}
	envFile := filepath.Join(dir, "env")
	logPath := filepath.Join(dir, "rin-stack.log")
	logf, err := os.Create(logPath)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	defer logf.Close()
	args := []string{"-env-file", envFile, "-control", "127.0.0.1:0"}
	if opts.RedshiftPassword != "" {
		args = append(args, "-redshift-password", opts.RedshiftPassword)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	child, err := proc.Start(cmd, syscall.SIGTERM, nil)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start rin-stack: %w", err)
	}
	s := &Stack{child: child, dir: dir}
	fail := func(err error) (*Stack, error) {
		_ = child.Stop(syscall.SIGTERM, 10*time.Second)
		out, _ := os.ReadFile(logPath)
		os.RemoveAll(dir)
		if bytes.Contains(out, []byte(proc.ErrNoPostgres.Error())) {
			return nil, proc.ErrNoPostgres
		}
		return nil, fmt.Errorf("rin-stack: %w\nlog:\n%s", err, proc.LastBytes(out, 3000))
	}
	for {
		b, err := os.ReadFile(envFile)
		if err == nil {
			s.env = parseExports(string(b))
			break
		}
		select {
		case <-child.Done():
			return fail(fmt.Errorf("exited during startup: %v", child.Err()))
		case <-ctx.Done():
			return fail(fmt.Errorf("not up: %w", ctx.Err()))
		case <-time.After(50 * time.Millisecond):
		}
	}
	s.control = s.env["RIN_STACK_CONTROL"]
	s.s3 = s3.New(s3.Options{
		BaseEndpoint: aws.String(s.env["AWS_ENDPOINT_URL_S3"]), Region: localaws.Region, UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(localaws.AccessKeyID, localaws.SecretAccessKey, ""),
	})
	return s, nil
}

// parseExports reads rin-stack's `export K=V` lines (values single-quoted
// when they need it).
func parseExports(s string) map[string]string {
	env := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		kv, ok := strings.CutPrefix(line, "export ")
		if !ok {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(v, "'") && strings.HasSuffix(v, "'") && len(v) >= 2 {
			v = strings.ReplaceAll(v[1:len(v)-1], `'\''`, "'")
		}
		env[k] = v
	}
	return env
}

// Close stops rin-stack (SIGTERM: it shuts the stack down) and removes its
// directory.
func (s *Stack) Close() error {
	err := s.child.Stop(syscall.SIGTERM, 30*time.Second)
	if errors.Is(err, os.ErrProcessDone) {
		err = nil
	}
	if err != nil {
		out, _ := os.ReadFile(filepath.Join(s.dir, "rin-stack.log"))
		err = fmt.Errorf("stop rin-stack: %w\nlog:\n%s", err, proc.LastBytes(out, 2000))
	}
	os.RemoveAll(s.dir)
	return err
}

// Env returns the value of one of rin-stack's exported settings.
func (s *Stack) Env(key string) string { return s.env[key] }

// S3 is a client of the stack's S3 (path style, the stack's keys).
func (s *Stack) S3() *s3.Client { return s.s3 }

// PutObject stores body at s3://bucket/key.
func (s *Stack) PutObject(ctx context.Context, bucket, key string, body []byte) error {
	_, err := s.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	return err
}

// Database is the database behind the simulator.
func (s *Stack) Database() string { return s.env["RIN_STACK_DATABASE"] }

// BackendDSN is the PostgreSQL DSN of that database, bypassing the simulator.
func (s *Stack) BackendDSN() string { return s.env["RIN_STACK_PG_DSN"] }

// RedshiftDSN is a libpq URL for the simulator.
func (s *Stack) RedshiftDSN() string { return s.env["RIN_STACK_REDSHIFT_DSN"] }

// RedshiftHostPort returns the simulator's host and port.
func (s *Stack) RedshiftHostPort() (string, int) {
	port, _ := strconv.Atoi(s.env["RIN_STACK_REDSHIFT_PORT"])
	return s.env["RIN_STACK_REDSHIFT_HOST"], port
}

// post calls a control endpoint and decodes its JSON answer into out (if
// not nil).
func (s *Stack) post(path string, params url.Values, out any) error {
	resp, err := http.PostForm(s.control+path, params)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return decode(path, resp, out)
}

func decode(path string, resp *http.Response, out any) error {
	if resp.StatusCode != http.StatusOK {
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return fmt.Errorf("rin-stack %s: %s: %s", path, resp.Status, strings.TrimSpace(b.String()))
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func (s *Stack) get(path string, out any) error {
	resp, err := http.Get(s.control + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return decode(path, resp, out)
}

// StartSimulator starts one more simulator on the stack's database and S3
// that demands password; it runs until the stack stops. It returns its
// address.
func (s *Stack) StartSimulator(password string) (string, error) {
	var out struct{ Addr string }
	err := s.post("/stack/simulator", url.Values{"password": {password}}, &out)
	return out.Addr, err
}

// StartDataAPI starts a Redshift Data API server on the simulator; it runs
// until the stack stops. It returns its endpoint URL.
func (s *Stack) StartDataAPI() (string, error) {
	var out struct{ Endpoint string }
	err := s.post("/stack/dataapi", nil, &out)
	return out.Endpoint, err
}

// SetBucketRegion places bucket in region for S3 and the simulator (empty:
// the cluster's region).
func (s *Stack) SetBucketRegion(bucket, region string) error {
	return s.post("/stack/bucket-region", url.Values{"bucket": {bucket}, "region": {region}}, nil)
}

// FailNextCopies makes the simulator's next n COPYs fail with sqlstate and
// message.
func (s *Stack) FailNextCopies(n int, sqlstate, message string) error {
	return s.post("/faults/fail-copies", url.Values{"n": {strconv.Itoa(n)}, "sqlstate": {sqlstate}, "message": {message}}, nil)
}

// SerializationConflictsInto makes the next n COPYs into table (schema.table)
// abort with a serialization conflict.
func (s *Stack) SerializationConflictsInto(table string, n int) error {
	return s.post("/faults/serialization-conflicts", url.Values{"table": {table}, "n": {strconv.Itoa(n)}}, nil)
}

// SetCopyLatency delays every COPY by d (0: none).
func (s *Stack) SetCopyLatency(d time.Duration) error {
	return s.post("/faults/latency", url.Values{"d": {d.String()}}, nil)
}

// ResetFaults clears every injected fault.
func (s *Stack) ResetFaults() error { return s.post("/faults/reset", nil, nil) }

// Stats are the simulator's counters that rin's tests read (see
// redshiftsim.Stats for all of them).
type Stats struct {
	SerializationAborts int64 `json:"serialization_aborts"`
}

// Stats returns the simulator's counters.
func (s *Stack) Stats() (Stats, error) {
	var st Stats
	err := s.get("/stats", &st)
	return st, err
}

// Faults is the part of the simulator's fault state rin's tests read (see
// redshiftsim.FaultState).
type Faults struct {
	TableFailures []struct {
		Table     string `json:"table"`
		Remaining int    `json:"remaining"`
	} `json:"table_failures"`
}

// Faults returns the simulator's fault state.
func (s *Stack) Faults() (Faults, error) {
	var f Faults
	err := s.get("/faults", &f)
	return f, err
}

// Addr joins the simulator's host and port.
func (s *Stack) Addr() string {
	h, p := s.RedshiftHostPort()
	return net.JoinHostPort(h, strconv.Itoa(p))
}
