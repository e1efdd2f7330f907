package stack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/jackc/pgx/v5"

	"github.com/rinhq/rin/internal/stack"
	"github.com/rinhq/rin/internal/stack/stacktest"
)

// trickyKey has every character class an S3 event key encodes.
const trickyKey = "a b+c/ü'x;.json"

// TestStackCopyThroughSimulator starts the whole stack, uploads an object
// with its notification, and loads it with a Redshift COPY through the
// simulator over both protocols.
func TestStackCopyThroughSimulator(t *testing.T) {
	s := stacktest.Start(t)
	ctx := t.Context()

	env := strings.Join(s.Env(), "\n")
	for _, want := range []string{
		"AWS_ENDPOINT_URL_SQS=" + s.SQS().Endpoint(), "AWS_ENDPOINT_URL_S3=" + s.S3().Endpoint(),
		"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1", "PGSSLMODE=disable",
	} {
		if !strings.Contains(env, want) {
			t.Errorf("Env lacks %q:\n%s", want, env)
		}
	}
	host, port := s.RedshiftHostPort()
	if host != "127.0.0.1" || port == 0 {
		t.Fatalf("RedshiftHostPort = %s, %d", host, port)
	}

	bucket := stacktest.NewBucket(t, s)
	_, queueURL := stacktest.NewQueue(t, s, stack.QueueOptions{VisibilityTimeout: 5})
	schema := stacktest.Name("s")
	stacktest.NewTable(t, s, schema, "events", "id int, name varchar(64)")

	key := "in/" + trickyKey
	ev, err := s.UploadAndNotify(ctx, queueURL, bucket, key, []byte("{\"id\":1,\"name\":\"a\"}\n{\"id\":2,\"name\":\"b\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.SQS().Client().ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), WaitTimeSeconds: 2})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("receive: %v, %d messages", err, len(out.Messages))
	}
	var msg struct {
		Records []struct {
			S3 struct {
				Bucket struct{ Name string }
				Object struct {
					Key  string
					Size int64
					ETag string
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(aws.ToString(out.Messages[0].Body)), &msg); err != nil || len(msg.Records) != 1 {
		t.Fatalf("event: %v %s", err, aws.ToString(out.Messages[0].Body))
	}
	obj := msg.Records[0].S3.Object
	gotKey, err := url.QueryUnescape(obj.Key)
	if err != nil || gotKey != key || obj.Size != ev.Size || obj.ETag != ev.ETag || msg.Records[0].S3.Bucket.Name != bucket {
		t.Fatalf("event object %+v (decoded key %q, %v), want %+v", obj, gotKey, err, ev)
	}

	copySQL := fmt.Sprintf(`/* Rin */ COPY %s FROM 's3://%s/%s' CREDENTIALS 'aws_access_key_id=%s;aws_secret_access_key=%s' REGION '%s' JSON 'auto'`,
		pgx.Identifier{schema, "events"}.Sanitize(), bucket, strings.ReplaceAll(gotKey, "'", "''"),
		stack.AccessKeyID, stack.SecretAccessKey, stack.Region)
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
		conn := stacktest.Connect(t, s)
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, copySQL, mode); err != nil {
			t.Fatalf("COPY (%v): %v", mode, err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := stacktest.CountRows(t, s, schema, "events"); n != 4 {
		t.Fatalf("rows = %d, want 4 (2 per COPY)", n)
	}
	if st := s.Redshift().Stats(); st.Copies != 2 || st.RowsLoaded != 4 {
		t.Fatalf("simulator stats %+v, want 2 copies, 4 rows", st)
	}
}

func TestStackCloseLeavesNoProcess(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	s, err := stack.Start(ctx, stack.Options{Logger: stacktest.Logger(t)})
	stacktest.CheckStart(t, err)
	pids := []int{s.SQS().Pid()}
	if !s.Postgres().External() {
		pids = append(pids, s.Postgres().Pid())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); err != syscall.ESRCH {
			t.Errorf("pid %d survived Close: %v", pid, err)
		}
		if err := syscall.Kill(-pid, 0); err != syscall.ESRCH {
			t.Errorf("process group %d survived Close: %v", pid, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
