package stack

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/rinhq/rin/internal/proc"
)

// The AWS Lambda runtime interface emulator is pinned as a tool in the stack
// module (internal/stack/go.mod), like goaws; its pseudo-version is part of
// the cached binary's name.
const (
	rieVersion = "v0.0.0-20261030222936-bef5c4ba774d"
	riePackage = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"
)

// rieBinary returns the emulator: $RIN_RIE_BIN, or one built once from the
// pinned version into the cache dir.
func rieBinary(ctx context.Context) (string, error) {
	return proc.ToolBinary(ctx, "RIN_RIE_BIN", "aws-lambda-rie-"+rieVersion, riePackage)
}

// LambdaOptions configures StartLambda.
type LambdaOptions struct {
	// Bootstrap is the function's executable (a provided.al2023 bootstrap).
	Bootstrap string
	// Env is the function's environment. The emulator passes its own
	// environment on to the function, so this is the emulator's, plus
	// AWS_LAMBDA_FUNCTION_TIMEOUT. Nothing is inherited from this process.
	Env []string
	// Timeout is the function timeout, whole seconds (default 30s). As in
	// Lambda it bounds the first invocation's init plus the invocation.
	Timeout time.Duration
	// Dir is the function's working directory (default: a temp dir).
	Dir string
	// LogPath receives the emulator's and the function's output (required).
	LogPath string
	// StartTimeout bounds building (first run) and starting the emulator.
	StartTimeout time.Duration
	Logger       *slog.Logger
}

// Lambda is one AWS Lambda runtime interface emulator: one simulated
// execution environment of a function. It starts the function at the first
// invocation and keeps it for the next ones, as Lambda keeps a warm
// environment. It serves one invocation at a time (a second concurrent one
// crashes it), so Invoke serialises; run one Lambda per environment for
// concurrency.
type Lambda struct {
	endpoint string
	timeout  time.Duration
	proc     *proc.Child
	client   *http.Client
	log      *slog.Logger

	mu sync.Mutex // one invocation at a time

	stopOnce sync.Once
}

// StartLambda starts an emulator for opts.Bootstrap on free ports and
// returns once it accepts connections.
func StartLambda(ctx context.Context, opts LambdaOptions) (*Lambda, error) {
	if opts.Bootstrap == "" || opts.LogPath == "" {
		return nil, fmt.Errorf("start lambda emulator: Bootstrap and LogPath are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	opts.Timeout = opts.Timeout.Round(time.Second)
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 5 * time.Minute // includes the first go build
	}
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
	bin, err := rieBinary(ctx)
	if err != nil {
		return nil, err
	}
	if opts.Dir == "" {
		if opts.Dir, err = os.MkdirTemp("", "rin-lambda-task-"); err != nil {
			return nil, fmt.Errorf("lambda emulator: %w", err)
		}
	}
	for attempt := 1; ; attempt++ {
		l, err := startLambda(ctx, bin, opts)
		if err == nil {
			opts.Logger.Info("lambda emulator started", "endpoint", l.endpoint, "bootstrap", opts.Bootstrap, "log", opts.LogPath)
			return l, nil
		}
		if attempt == 3 || ctx.Err() != nil {
			return nil, err
		}
		opts.Logger.Warn("lambda emulator start failed, retrying", "attempt", attempt, "err", err)
	}
}

func startLambda(ctx context.Context, bin string, opts LambdaOptions) (*Lambda, error) {
	apiPort, err := proc.FreePort()
	if err != nil {
		return nil, err
	}
	port, err := proc.FreePort()
	if err != nil {
		return nil, err
	}
	if port == apiPort {
		return nil, fmt.Errorf("lambda emulator: got port %d twice", port)
	}
	logf, err := os.OpenFile(opts.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lambda emulator log: %w", err)
	}
	defer logf.Close()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(bin,
		"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(apiPort),
		"--runtime-interface-emulator-address", addr,
		opts.Bootstrap)
	cmd.Dir = opts.Dir
	cmd.Env = append(append([]string(nil), opts.Env...),
		"AWS_LAMBDA_FUNCTION_TIMEOUT="+strconv.Itoa(int(opts.Timeout/time.Second)))
	cmd.Stdout, cmd.Stderr = logf, logf
	child, err := proc.Start(cmd, syscall.SIGKILL, nil)
	if err != nil {
		return nil, fmt.Errorf("start lambda emulator %s: %w", bin, err)
	}
	l := &Lambda{
		endpoint: "http://" + addr, timeout: opts.Timeout, proc: child, log: opts.Logger,
		// Past the function timeout the emulator answers by itself.
		client: &http.Client{Timeout: opts.Timeout + 30*time.Second},
	}
	if err := waitListening(ctx, addr, child); err != nil {
		_ = l.Stop()
		tail, _ := os.ReadFile(opts.LogPath)
		return nil, fmt.Errorf("lambda emulator on %s: %w\nlog:\n%s", addr, err, proc.LastBytes(tail, 2000))
	}
	return l, nil
}

// waitListening waits until addr accepts connections (the emulator has no
// health endpoint, and an invocation would start the function).
func waitListening(ctx context.Context, addr string, child *proc.Child) error {
	for {
		c, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", addr)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-child.Done():
			return fmt.Errorf("exited during startup: %v", child.Err())
		case <-ctx.Done():
			return fmt.Errorf("not listening: %w (last error: %v)", ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Endpoint is the emulator's base URL.
func (l *Lambda) Endpoint() string { return l.endpoint }

// Timeout is the function timeout the emulator enforces.
func (l *Lambda) Timeout() time.Duration { return l.timeout }

// InvokeResult is the emulator's answer to one invocation, as it sent it.
// A function error is an HTTP 200 too; see FunctionError.
type InvokeResult struct {
	Status int
	Body   []byte
	Took   time.Duration
}

// Invoke sends payload as one synchronous invocation and returns the
// emulator's answer. Concurrent calls wait for each other.
func (l *Lambda) Invoke(ctx context.Context, payload []byte) (InvokeResult, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.endpoint+"/2015-03-31/functions/function/invocations", bytes.NewReader(payload))
	if err != nil {
		return InvokeResult{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := l.client.Do(req)
	if err != nil {
		return InvokeResult{}, fmt.Errorf("invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return InvokeResult{}, fmt.Errorf("invoke: read response: %w", err)
	}
	return InvokeResult{Status: resp.StatusCode, Body: body, Took: time.Since(start)}, nil
}

// Stop ends the emulator and the function it started: the function runs in
// a process group of its own, so it is found by its parent and killed with
// its group. Safe to call more than once.
func (l *Lambda) Stop() error {
	var err error
	l.stopOnce.Do(func() {
		children := proc.Children(l.proc.Pid())
		err = l.proc.Stop(syscall.SIGKILL, 5*time.Second)
		for _, pid := range children {
			proc.KillGroup(pid)
		}
	})
	return err
}
