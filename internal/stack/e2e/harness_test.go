package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rinhq/rin/admin"
	"github.com/rinhq/rin/internal/stack"
	"github.com/rinhq/rin/internal/stack/stacktest"
	"github.com/rinhq/rin/journal"
)

var shared stacktest.Shared

// rinBin is the rin binary under test, built once by TestMain.
var rinBin string

// rinRoot is rin's module root (the checkout's), from this package's
// directory: rin and rin-journal are built there, at its go.sum's versions.
var rinRoot = filepath.Join("..", "..", "..")

// goInRin is the go command with args, run in rin's module.
func goInRin(args ...string) *exec.Cmd {
	cmd := exec.Command("go", args...)
	cmd.Dir = rinRoot
	return cmd
}

// buildInRin runs go build with args in rin's module.
func buildInRin(args ...string) ([]byte, error) {
	return goInRin(append([]string{"build"}, args...)...).CombinedOutput()
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "rin-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	rinBin = filepath.Join(dir, "rin")
	// rin is built in its own module (the checkout's root), at its own
	// go.sum's versions.
	build := goInRin("build", "-race", "-o", rinBin, ".")
	if os.Getenv("RIN_BENCH") != "" {
		// Benchmarks measure the binary users run, not a race build.
		build = goInRin("build", "-o", rinBin, ".")
		// This process hosts the simulator and gofakes3, whose heap holds
		// every object: collected at the default pace, its GC took a fifth
		// of the stack's CPU beside rin's run. It is not what is measured.
		debug.SetGCPercent(400)
	}
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build rin:", err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	stacktest.Main(m, &shared)
}

// Secrets the tests put in configs; no log line may contain them.
const (
	secretAccessKeyID = "AKIARINTESTKEY0000001"
	secretSecretKey   = "rinTestSecretKey/DoNotLog+0123456789abcdef"
	secretPassword    = "rin-test-password-DoNotLog"
)

// env is one test's corner of the shared stack: its own queue, bucket,
// schema and working directory.
type env struct {
	t        testing.TB
	st       *stack.Stack
	queue    string
	queueURL string
	bucket   string
	schema   string
	dir      string
	logs     []string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvWith(t, stack.QueueOptions{VisibilityTimeout: 20})
}

// newEnvWith is newEnv with the queue's options (its dead-letter queue's
// maxReceiveCount, say) chosen by the test.
func newEnvWith(t testing.TB, q stack.QueueOptions) *env {
	t.Helper()
	st := shared.Get(t)
	e := &env{t: t, st: st, bucket: stacktest.NewBucket(t, st), schema: stacktest.Name("s"), dir: t.TempDir()}
	e.queue, e.queueURL = stacktest.NewQueue(t, st, q)
	e.exec(`CREATE SCHEMA ` + pgx.Identifier{e.schema}.Sanitize())
	t.Cleanup(func() {
		// A failed test keeps rin's logs for the reader.
		if t.Failed() {
			for _, p := range e.logs {
				b, _ := os.ReadFile(p)
				t.Logf("---- %s (last 6000 bytes) ----\n%s", filepath.Base(p), tail(b, 6000))
			}
		}
	})
	return e
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// table creates schema.name with the columns the test objects carry.
func (e *env) table(name string) {
	e.t.Helper()
	e.exec(fmt.Sprintf(`CREATE TABLE %s (src varchar(1024), n int, msg varchar(256))`, pgx.Identifier{e.schema, name}.Sanitize()))
}

// copyLatency makes each COPY on the simulator take d more, until the test
// ends.
func (e *env) copyLatency(d time.Duration) {
	sim := e.st.Redshift()
	sim.SetCopyLatency(d)
	e.t.Cleanup(func() { sim.SetCopyLatency(0) })
}

// exec runs SQL on the PostgreSQL behind the simulator.
func (e *env) exec(sql string) {
	e.t.Helper()
	conn := e.backend()
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
}

func (e *env) backend() *pgx.Conn {
	e.t.Helper()
	conn, err := pgx.Connect(context.Background(), e.st.BackendDSN())
	if err != nil {
		e.t.Fatalf("connect backend: %v", err)
	}
	return conn
}

// rowsBySource returns, per object key, how many rows table holds.
func (e *env) rowsBySource(table string) map[string]int {
	e.t.Helper()
	return e.rowsIn(e.schema, table)
}

// rowsIn is rowsBySource for a table in another schema.
func (e *env) rowsIn(schema, table string) map[string]int {
	e.t.Helper()
	conn := e.backend()
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), fmt.Sprintf(`SELECT src, count(*) FROM %s GROUP BY src`, pgx.Identifier{schema, table}.Sanitize()))
	if err != nil {
		e.t.Fatalf("count rows of %s: %v", table, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var src string
		var n int
		if err := rows.Scan(&src, &n); err != nil {
			e.t.Fatal(err)
		}
		out[src] = n
	}
	return out
}

// object is the body of a test object: rows JSON lines naming their key.
func object(key string, rows int) []byte {
	var b bytes.Buffer
	for i := 0; i < rows; i++ {
		fmt.Fprintf(&b, `{"src":%q,"n":%d,"msg":%q}`+"\n", key, i, fmt.Sprintf("row %d of %s", i, key))
	}
	return b.Bytes()
}

// put uploads an object and returns its event (not sent).
func (e *env) put(key string, body []byte) stack.ObjectEvent {
	e.t.Helper()
	etag, version, err := e.st.S3().PutObject(context.Background(), e.bucket, key, body)
	if err != nil {
		e.t.Fatalf("put %s: %v", key, err)
	}
	return stack.ObjectEvent{Bucket: e.bucket, Key: key, Size: int64(len(body)), ETag: etag, VersionID: version, Time: time.Now()}
}

// send puts a raw message body on the test's queue.
func (e *env) send(body string) {
	e.t.Helper()
	if _, err := e.st.SQS().SendMessage(context.Background(), e.queueURL, body); err != nil {
		e.t.Fatalf("send: %v", err)
	}
}

// putAndNotify uploads and sends the object's S3 event.
func (e *env) putAndNotify(key string, rows int) stack.ObjectEvent {
	e.t.Helper()
	ev := e.put(key, object(key, rows))
	e.send(stack.S3EventBody(ev))
	return ev
}

// configData fills the config template.
type configData struct {
	Queue, Bucket, Schema, Dir string
	Host                       string
	Port                       int
	Targets                    string
	Extra                      string
}

const configTemplate = `# An original Rin config, plus rin's own tuning at the end.
queue_name: {{ .Queue }}
credentials:
  aws_access_key_id: ` + secretAccessKeyID + `
  aws_secret_access_key: ` + secretSecretKey + `
  aws_region: us-east-1
redshift:
  host: {{ .Host }}
  port: {{ .Port }}
  dbname: dev
  user: rin
  password: ` + secretPassword + `
  schema: {{ .Schema }}
s3:
  bucket: {{ .Bucket }}
  region: us-east-1
sql_option: "JSON 'auto'"
targets:
{{ .Targets }}
journal:
  path: {{ .Dir }}/rin.journal.db
{{ .Extra }}
`

// writeConfig writes config.yaml for the given targets section (indented
// list items) and extra top-level YAML; it returns the path.
func (e *env) writeConfig(name, targets, extra string) string {
	e.t.Helper()
	host, port := e.st.RedshiftHostPort()
	// rin's own tuning for tests; a test's extra YAML replaces a section.
	for section, def := range map[string]string{
		"batch":   "  max_age: 100ms\n",
		"receive": "  wait_time: 1s\n  visibility_timeout: 20s\n",
		"retry":   "  initial_interval: 100ms\n  max_interval: 1s\n  max_attempts: 2\n",
	} {
		if !strings.Contains(extra, section+":") {
			extra += "\n" + section + ":\n" + def
		}
	}
	var b bytes.Buffer
	template.Must(template.New("c").Parse(configTemplate)).Execute(&b, configData{
		Queue: e.queue, Bucket: e.bucket, Schema: e.schema, Dir: e.dir,
		Host: host, Port: port, Targets: targets, Extra: extra,
	})
	path := filepath.Join(e.dir, name)
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		e.t.Fatal(err)
	}
	return path
}

// proc is a running rin process.
type proc struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
	once sync.Once
}

// start runs rin with args in the test's directory; its output goes to a
// log file named after the run.
func (e *env) start(args ...string) *proc {
	e.t.Helper()
	return e.startEnv(nil, args...)
}

// startEnv is start with extra environment variables (NAME=value).
func (e *env) startEnv(extraEnv []string, args ...string) *proc {
	e.t.Helper()
	logPath := filepath.Join(e.dir, fmt.Sprintf("rin-%d.log", len(e.logs)+1))
	f, err := os.Create(logPath)
	if err != nil {
		e.t.Fatal(err)
	}
	e.logs = append(e.logs, logPath)
	cmd := exec.Command(rinBin, args...)
	cmd.Dir = e.dir
	cmd.Env = append(append(os.Environ(), e.st.Env()...), extraEnv...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	p := &proc{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); f.Close(); close(p.done) }()
	e.t.Cleanup(func() { p.kill() })
	return p
}

// run runs rin to completion (batch mode, dry-run, a bad config) and
// returns its exit code and output.
func (e *env) run(timeout time.Duration, args ...string) (int, string) {
	e.t.Helper()
	return e.runEnv(timeout, nil, args...)
}

// runEnv is run with extra environment variables (NAME=value).
func (e *env) runEnv(timeout time.Duration, env []string, args ...string) (int, string) {
	e.t.Helper()
	p := e.startEnv(env, args...)
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.kill()
		e.t.Fatalf("rin %v did not finish within %s", args, timeout)
	}
	out, _ := os.ReadFile(p.log)
	return p.cmd.ProcessState.ExitCode(), string(out)
}

func (p *proc) kill() {
	p.once.Do(func() {
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	})
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.once.Do(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(60 * time.Second):
			p.cmd.Process.Signal(syscall.SIGKILL)
			<-p.done
			t.Errorf("rin did not stop within 60s of SIGTERM")
		}
		if code := p.cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("rin exited %d after SIGTERM", code)
		}
	})
}

// waitFor polls cond until it holds or timeout passes.
func (e *env) waitFor(timeout time.Duration, what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// jobs reads the journal (rin must not be running) by state.
func (e *env) jobs() map[journal.State][]journal.Job {
	e.t.Helper()
	j, err := journal.Open(filepath.Join(e.dir, "rin.journal.db"), journal.Options{ReadOnly: true})
	if err != nil {
		e.t.Fatalf("open journal: %v", err)
	}
	defer j.Close()
	out := map[journal.State][]journal.Job{}
	j.View(func(tx *journal.Tx) error {
		return tx.ForEachJob("", func(job journal.Job) error {
			out[job.State] = append(out[job.State], job)
			return nil
		})
	})
	return out
}

// liveJobs asks a running rin for its jobs over the admin socket.
func (e *env) liveJobs() map[journal.State][]admin.Record {
	e.t.Helper()
	ctx := context.Background()
	c, err := admin.Dial(ctx, filepath.Join(e.dir, "rin.sock"))
	if err != nil {
		e.t.Fatalf("admin socket: %v", err)
	}
	defer c.Close()
	out := map[journal.State][]admin.Record{}
	if err := c.Dump(ctx, admin.Filter{}, func(r admin.Record) error {
		out[r.State] = append(out[r.State], r)
		return nil
	}); err != nil {
		e.t.Fatalf("dump: %v", err)
	}
	return out
}

// queueEmpty reports whether the test's queue holds no message, visible or
// in flight.
func (e *env) queueEmpty() bool {
	n, err := e.st.SQS().ApproximateCount(context.Background(), e.queueURL)
	return err == nil && n == 0
}

// assertNoSecrets fails if any rin log of the test holds a secret.
func (e *env) assertNoSecrets() {
	e.t.Helper()
	for _, p := range e.logs {
		b, _ := os.ReadFile(p)
		for _, s := range []string{secretAccessKeyID, secretSecretKey, secretPassword} {
			if bytes.Contains(b, []byte(s)) {
				e.t.Errorf("%s contains a secret (%s...)", filepath.Base(p), s[:6])
			}
		}
	}
}

// logsContain reports whether any rin log of the test contains s.
func (e *env) logsContain(s string) bool {
	for _, p := range e.logs {
		b, _ := os.ReadFile(p)
		if strings.Contains(string(b), s) {
			return true
		}
	}
	return false
}
