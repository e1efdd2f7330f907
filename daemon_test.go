package main

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/stack"
	"github.com/rinhq/rin/stack/stacktest"
)

// TestAWSClientsKeepResponsesWhole: the SQS client rin builds from its
// config drains a real goaws queue with nothing left in flight. Without
// internal/httpbody in awsConfig, some ReceiveMessage responses broke after
// goaws had put their messages in flight, hiding them for the visibility
// timeout. AWS_CA_BUNDLE is cleared so that the SDK leaves the HTTP client
// unset, the case in which rin once panicked at start.
func TestAWSClientsKeepResponsesWhole(t *testing.T) {
	q, err := stack.StartSQS(t.Context(), stack.SQSOptions{Logger: stacktest.Logger(t)})
	stacktest.CheckStart(t, err)
	t.Cleanup(func() { q.Stop() })
	for k, v := range map[string]string{"AWS_ENDPOINT_URL_SQS": q.Endpoint(), "AWS_CA_BUNDLE": "", "AWS_PROFILE": "", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"} {
		t.Setenv(k, v)
	}
	ac, err := awsConfig(t.Context(), config.Credentials{AWSRegion: stack.Region, AWSAccessKeyID: stack.AccessKeyID, AWSSecretAccessKey: stack.SecretAccessKey})
	if err != nil {
		t.Fatal(err)
	}
	qurl, err := q.CreateQueue(t.Context(), "rin_whole", stack.QueueOptions{VisibilityTimeout: 60})
	if err != nil {
		t.Fatal(err)
	}
	stacktest.CheckReceivesWhole(t, q, sqs.NewFromConfig(ac), qurl, 2000)
}
