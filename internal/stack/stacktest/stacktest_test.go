package stacktest_test

import (
	"regexp"
	"testing"

	"github.com/rinhq/rin/internal/stack"
	"github.com/rinhq/rin/internal/stack/stacktest"
)

var shared stacktest.Shared

func TestMain(m *testing.M) { stacktest.Main(m, &shared) }

func TestNames(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		n := stacktest.Name("My-Test/Queue.Name-that-is-rather-long-indeed")
		if !regexp.MustCompile(`^[a-z0-9_]{1,40}$`).MatchString(n) || seen[n] {
			t.Fatalf("bad or repeated name %q", n)
		}
		seen[n] = true
		if b := stacktest.BucketName("Bkt"); !regexp.MustCompile(`^[a-z0-9][a-z0-9-]{2,62}$`).MatchString(b) {
			t.Fatalf("bad bucket name %q", b)
		}
	}
}

func TestSharedStackHelpers(t *testing.T) {
	s := shared.Get(t)
	if again := shared.Get(t); again != s {
		t.Fatal("Get started a second stack")
	}
	bucket := stacktest.NewBucket(t, s)
	_, url := stacktest.NewQueue(t, s, stack.QueueOptions{})
	schema := stacktest.Name("sch")
	stacktest.NewTable(t, s, schema, "t", "id int")
	if n := stacktest.CountRows(t, s, schema, "t"); n != 0 {
		t.Fatalf("fresh table has %d rows", n)
	}
	if _, err := s.UploadAndNotify(t.Context(), url, bucket, "k.json", []byte(`{"id":1}`)); err != nil {
		t.Fatal(err)
	}
	if n, err := s.SQS().ApproximateCount(t.Context(), url); err != nil || n != 1 {
		t.Fatalf("queue count %d, %v", n, err)
	}
}
