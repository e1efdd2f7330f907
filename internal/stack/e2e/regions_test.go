package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rinhq/rin/internal/stack"
)

// A bucket in another region than the cluster, with no s3.region in the
// config: rin finds the bucket's region, writes the manifest with an S3
// client of that region (the stack's S3 refuses requests signed for
// another region, 301 as S3 does) and sends REGION in the COPY (the
// simulator's cluster reads other regions only when told). When the bucket
// later "moves", the 301 makes rin find its region again: held briefly,
// then loaded, nothing failed, nothing loaded twice.
func TestBucketInAnotherRegion(t *testing.T) {
	e := newEnv(t)
	e.table("foo")
	cfg := e.writeConfig("config.yaml", fooTarget, "")
	b, _ := os.ReadFile(cfg)
	unpinned := strings.Replace(string(b), "\n  region: us-east-1\n", "\n", 1) // s3.region; credentials.aws_region stays
	if unpinned == string(b) {
		t.Fatal("config has no s3.region to remove")
	}
	os.WriteFile(cfg, []byte(unpinned), 0o600)
	// The test's own S3 client signs for us-east-1: upload first.
	var first, second []string
	var firstEv, secondEv []stack.ObjectEvent
	for i := 0; i < 20; i++ {
		a, b := fmt.Sprintf("foo/a/%02d.json", i), fmt.Sprintf("foo/b/%02d.json", i)
		first, second = append(first, a), append(second, b)
		firstEv = append(firstEv, e.put(a, object(a, 2)))
		secondEv = append(secondEv, e.put(b, object(b, 2)))
	}
	e.st.SetBucketRegion(e.bucket, "eu-west-1")
	defer e.st.SetBucketRegion(e.bucket, "")
	defer e.st.Redshift().ResetFaults()

	e.send(stack.S3EventBody(firstEv...))
	p := e.start("-config", cfg)
	e.waitFor(60*time.Second, "loaded from eu-west-1", func() bool { return len(e.rowsBySource("foo")) == 20 })
	if e.logsContain("environment fault") {
		t.Fatal("the first load met a fault: the region was not found before the COPY")
	}

	e.st.SetBucketRegion(e.bucket, "ap-northeast-1")
	e.send(stack.S3EventBody(secondEv...))
	e.waitFor(90*time.Second, "loaded after the move", func() bool { return len(e.rowsBySource("foo")) == 40 })
	e.waitFor(30*time.Second, "queue empty", e.queueEmpty)
	p.stop(t)
	e.assertExactlyOnce("foo", append(first, second...), 2)
	e.assertSettled(0)
	if n := countLines(e, "environment fault"); n > 3 {
		t.Errorf("%d failed attempts after the move; a 301 should trigger one rediscovery, not a retry storm", n)
	}
}
