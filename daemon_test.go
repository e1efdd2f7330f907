package main

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/internal/localaws"
	"github.com/rinhq/rin/internal/stackproc"
)

// TestAWSClientsKeepResponsesWhole: the SQS client rin builds from its
// config drains a real goaws queue with nothing left in flight. Without
// internal/httpbody in awsConfig, some ReceiveMessage responses broke after
// goaws had put their messages in flight, hiding them for the visibility
// timeout. AWS_CA_BUNDLE is cleared so that the SDK leaves the HTTP client
// unset, the case in which rin once panicked at start.
func TestAWSClientsKeepResponsesWhole(t *testing.T) {
	q, err := localaws.StartSQS(t.Context(), localaws.SQSOptions{Logger: stackproc.Logger(t)})
	stackproc.CheckStart(t, err)
	t.Cleanup(func() { q.Stop() })
	for k, v := range map[string]string{"AWS_ENDPOINT_URL_SQS": q.Endpoint(), "AWS_CA_BUNDLE": "", "AWS_PROFILE": "", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"} {
		t.Setenv(k, v)
	}
	ac, err := awsConfig(t.Context(), config.Credentials{AWSRegion: localaws.Region, AWSAccessKeyID: localaws.AccessKeyID, AWSSecretAccessKey: localaws.SecretAccessKey})
	if err != nil {
		t.Fatal(err)
	}
	qurl, err := q.CreateQueue(t.Context(), "rin_whole", localaws.QueueOptions{VisibilityTimeout: 60})
	if err != nil {
		t.Fatal(err)
	}
	stackproc.CheckReceivesWhole(t, q, sqs.NewFromConfig(ac), qurl, 2000)
}

// TestS3PathStyleWithEndpoint: S3 is addressed path-style exactly when the
// SDK's settings name an endpoint, global or S3's own, and virtual-hosted
// otherwise (as AWS wants).
func TestS3PathStyleWithEndpoint(t *testing.T) {
	for _, tc := range []struct {
		name      string
		env       map[string]string
		pathStyle bool
	}{
		{"no endpoint", nil, false},
		{"AWS_ENDPOINT_URL", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}, true},
		{"AWS_ENDPOINT_URL_S3", map[string]string{"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9"}, true},
		{"only SQS's", map[string]string{"AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:9"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_SQS", "AWS_PROFILE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"} {
				t.Setenv(k, tc.env[k])
			}
			t.Setenv("AWS_CONFIG_FILE", "/dev/null")
			t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
			ac, err := awsConfig(t.Context(), config.Credentials{AWSRegion: "eu-west-1", AWSAccessKeyID: "AKIDTEST", AWSSecretAccessKey: "secret"})
			if err != nil {
				t.Fatal(err)
			}
			if got := newS3(ac).Options().UsePathStyle; got != tc.pathStyle {
				t.Errorf("UsePathStyle %v, want %v", got, tc.pathStyle)
			}
		})
	}
}
