package localaws

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/rinhq/rin/internal/httpbody"
	"github.com/rinhq/rin/internal/proc"
)

// Region, account and keys of the local stack. Any non-empty keys work; these
// are recognisable in logs and are what Env exports.
const (
	Region          = "us-east-1"
	AccountID       = "100010001000"
	AccessKeyID     = "rinlocal"
	SecretAccessKey = "rinlocalsecret"
)

// RedshiftUser is the user name the stack's simulator DSN connects as.
const RedshiftUser = "rin"

// SQSOptions configures StartSQS.
type SQSOptions struct {
	// LogPath receives goaws's output; default: a file in its temp dir,
	// removed by Stop unless KeepLog.
	LogPath string
	KeepLog bool
	// StartTimeout bounds building (first run) and starting goaws.
	StartTimeout time.Duration
	Logger       *slog.Logger
}

// SQS is a goaws process emulating SQS.
//
// Quirks of goaws v0.5.4 that rin must not trip on and tests must not rely on:
//   - Queue URLs name the host "us-east-1.127.0.0.1" (Region + "." + Host),
//     which does not resolve: clients must send every request to Endpoint().
//     aws-sdk-go-v2 does (it has no QueueUrl-based routing; proven in
//     TestSQSRequestsGoToEndpoint), so rin configures its client with
//     BaseEndpoint / AWS_ENDPOINT_URL_SQS and passes QueueUrl untouched.
//   - SendMessageBatch returns an empty Successful list; check Failed only.
//   - ApproximateReceiveCount is always 1 and ApproximateNumberOfMessages
//     includes in-flight messages. Empty bodies are accepted.
//   - Redrive happens when a message's visibility expires for the
//     maxReceiveCount-th time (a periodic 1s task), not on the next receive.
//   - Queue state is global and concurrent CreateQueue/DeleteQueue can crash
//     it, so this type serialises queue creation and deletion.
type SQS struct {
	endpoint string
	client   *sqs.Client
	proc     *proc.Child
	dir      string
	logPath  string
	keepLog  bool
	log      *slog.Logger

	queueMu sync.Mutex // serialises CreateQueue/DeleteQueue (goaws crashes otherwise)

	stopOnce sync.Once
	stopErr  error
}

// StartSQS starts goaws on a free port and returns once it answers.
func StartSQS(ctx context.Context, opts SQSOptions) (*SQS, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 5 * time.Minute // includes the first go build
	}
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
	bin, err := goawsBinary(ctx)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "rin-goaws-")
	if err != nil {
		return nil, fmt.Errorf("goaws temp dir: %w", err)
	}
	q := &SQS{dir: dir, logPath: opts.LogPath, keepLog: opts.KeepLog, log: log}
	if q.logPath == "" {
		q.logPath = filepath.Join(dir, "goaws.log")
	}
	for attempt := 1; ; attempt++ {
		err = q.start(ctx, bin)
		if err == nil {
			log.Info("goaws started", "endpoint", q.endpoint, "log", q.logPath)
			return q, nil
		}
		if attempt == 3 || ctx.Err() != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		log.Warn("goaws start failed, retrying", "attempt", attempt, "err", err)
	}
}

// goawsConfig is goaws's yaml config. Host only shapes queue URLs (it always
// listens on 0.0.0.0); no queues are predeclared.
const goawsConfig = `Local:
  Host: 127.0.0.1
  Port: "%d"
  Region: %s
  AccountId: "%s"
  LogToFile: false
  EnableDuplicates: false
  QueueAttributeDefaults:
    VisibilityTimeout: 30
    ReceiveMessageWaitTimeSeconds: 0
    MaximumMessageSize: 262144
  Queues: []
  Topics: []
`

func (q *SQS) start(ctx context.Context, bin string) error {
	port, err := proc.FreePort()
	if err != nil {
		return err
	}
	cfgPath := filepath.Join(q.dir, "goaws.yaml")
	if err := os.WriteFile(cfgPath, fmt.Appendf(nil, goawsConfig, port, Region, AccountID), 0o644); err != nil {
		return fmt.Errorf("write goaws config: %w", err)
	}
	logf, err := os.OpenFile(q.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("goaws log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(bin, "-config", cfgPath, "-loglevel", "warn", "Local")
	cmd.Dir = q.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	child, err := proc.Start(cmd, syscall.SIGKILL, nil)
	if err != nil {
		return fmt.Errorf("start goaws %s: %w", bin, err)
	}
	q.proc = child
	q.endpoint = "http://127.0.0.1:" + strconv.Itoa(port)
	q.client = newSQSClient(q.endpoint)
	if err := q.waitReady(ctx); err != nil {
		_ = child.Stop(syscall.SIGKILL, 5*time.Second)
		tail, _ := os.ReadFile(q.logPath)
		return fmt.Errorf("goaws on port %d: %w\nlog:\n%s", port, err, proc.LastBytes(tail, 2000))
	}
	return nil
}

func (q *SQS) waitReady(ctx context.Context) error {
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := q.client.ListQueues(cctx, &sqs.ListQueuesInput{}, func(o *sqs.Options) { o.RetryMaxAttempts = 1 })
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-q.proc.Done():
			return fmt.Errorf("exited during startup: %v", q.proc.Err())
		case <-ctx.Done():
			return fmt.Errorf("not answering: %w (last error: %v)", ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// newSQSClient builds a hermetic client (no shared config, env or IMDS) that
// sends every request to endpoint, whatever host a QueueUrl names.
func newSQSClient(endpoint string) *sqs.Client {
	return sqs.New(sqs.Options{
		Region:           Region,
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		RetryMaxAttempts: 5,
		// httpbody: without it, 0.1–1 % of received messages were lost in
		// broken responses (an SDK/net/http race, not goaws).
		HTTPClient: httpbody.Buffered(awshttp.NewBuildableClient().WithTimeout(60 * time.Second)),
	})
}

// Endpoint is goaws's base URL (http://127.0.0.1:PORT).
func (q *SQS) Endpoint() string { return q.endpoint }

// Client returns an SQS client bound to Endpoint with the stack's static keys.
func (q *SQS) Client() *sqs.Client { return q.client }

// LogPath is the file receiving goaws's output.
func (q *SQS) LogPath() string { return q.logPath }

// Pid returns goaws's process id.
func (q *SQS) Pid() int { return q.proc.Pid() }

// Stop kills goaws (it keeps all state in memory, so there is nothing to
// flush) and removes its temp dir. Safe to call more than once.
func (q *SQS) Stop() error {
	q.stopOnce.Do(func() {
		_ = q.proc.Stop(syscall.SIGKILL, 5*time.Second)
		if q.keepLog && filepath.Dir(q.logPath) == q.dir {
			q.log.Info("goaws log kept", "dir", q.dir)
			return
		}
		if err := os.RemoveAll(q.dir); err != nil {
			q.stopErr = fmt.Errorf("stop goaws: remove %s: %w", q.dir, err)
		}
	})
	return q.stopErr
}
