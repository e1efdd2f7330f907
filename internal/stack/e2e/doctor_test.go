package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rinhq/rin/internal/stack/dataapi"
)

// TestDoctor: rin doctor passes against the local stack (queue, bucket,
// login, tables, ledgers, a manifest round trip and a zero-row COPY per
// target), and when a target's table is missing it exits non-zero naming
// the target and the table. It leaves nothing in the bucket or the tables.
func TestDoctor(t *testing.T) {
	if testing.Short() {
		t.Skip("slow end-to-end test: skipped with -short (make test-short); make test runs it")
	}
	e := newEnv(t)
	e.table("events")
	e.table("gz")
	targets := `  - redshift: {table: events}
    s3: {key_prefix: app/}
  - redshift: {table: gz}
    s3: {key_prefix: gz/}
    sql_option: "JSON 'auto' GZIP"
  - redshift: {schema: $1, table: $2}
    s3: {key_regexp: '^re/([a-z]+)/([a-z]+)/'}
  - s3: {key_prefix: skip/}
    discard: true
`
	cfg := e.writeConfig("config.yaml", targets, "")
	code, out := e.run(2*time.Minute, "doctor", "-config", cfg)
	if code != 0 {
		t.Fatalf("doctor exited %d against a working stack:\n%s", code, out)
	}
	for _, want := range []string{
		"ok    queue     " + e.queue,
		"ok    bucket    " + e.bucket,
		"ok    login     ",
		fmt.Sprintf(`ok    table     targets[0] "%s"."events": exists; INSERT allowed`, e.schema),
		fmt.Sprintf(`ok    copy      targets[1] "%s"."gz"`, e.schema),
		`skip  table     targets[2] "$1"."$2": its schema or table comes from each key's captures`,
		"ok    manifest  s3://" + e.bucket + "/_rin/manifests/",
		"0 failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q", want)
		}
	}
	if n := len(e.rowsBySource("events")) + len(e.rowsBySource("gz")); n != 0 {
		t.Errorf("doctor loaded rows from %d objects", n)
	}
	if t.Failed() {
		t.Log(out)
	}

	missing := e.writeConfig("missing.yaml", targets+"  - redshift: {table: missing}\n    s3: {key_prefix: m/}\n", "")
	code, out = e.run(2*time.Minute, "doctor", "-config", missing)
	e.assertDoctorMissingTable(code, out, 4)
}

// TestDoctorDataAPI: rin doctor checks a driver: redshift-data endpoint
// through the Data API (the stand-in, reached through
// AWS_ENDPOINT_URL_REDSHIFT_DATA as a real deployment would be): login,
// table and INSERT privilege, ledger and a zero-row COPY pass for a table
// that exists, a missing table fails naming the target and the table, and
// nothing is loaded or left in the bucket.
func TestDoctorDataAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("slow end-to-end test: skipped with -short (make test-short); make test runs it")
	}
	e := newEnv(t)
	e.table("dt")
	e.table("dgz")
	srv, err := dataapi.Start(dataapi.Config{Backend: e.st.RedshiftDSN()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	env := []string{"AWS_ENDPOINT_URL_REDSHIFT_DATA=" + srv.Endpoint()}
	targets := `  - redshift: {driver: redshift-data, cluster: x, table: dt}
    s3: {key_prefix: d/}
  - redshift: {driver: redshift-data, cluster: x, table: dgz}
    s3: {key_prefix: gz/}
    sql_option: "JSON 'auto' GZIP"
`
	cfg := e.writeConfig("config.yaml", targets, "")
	code, out := e.runEnv(2*time.Minute, env, "doctor", "-config", cfg)
	if code != 0 {
		t.Fatalf("doctor exited %d against a working Data API:\n%s", code, out)
	}
	for _, want := range []string{
		"ok    login     redshift-data://",
		fmt.Sprintf(`ok    table     targets[0] "%s"."dt": exists; INSERT allowed`, e.schema),
		fmt.Sprintf(`ok    ledger    targets[0] "%s"."dt" ledger `, e.schema),
		fmt.Sprintf(`ok    copy      targets[0] "%s"."dt": a COPY (NOLOAD, rolled back)`, e.schema),
		fmt.Sprintf(`ok    copy      targets[1] "%s"."dgz": a COPY (NOLOAD, rolled back)`, e.schema),
		"0 skipped, 0 failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q", want)
		}
	}
	if srv.Submitted() == 0 {
		t.Error("doctor passed without submitting anything to the Data API")
	}
	if n := len(e.rowsBySource("dt")) + len(e.rowsBySource("dgz")); n != 0 {
		t.Errorf("doctor loaded rows from %d objects", n)
	}
	if t.Failed() {
		t.Log(out)
	}

	missing := e.writeConfig("missing.yaml", targets+"  - redshift: {driver: redshift-data, cluster: x, table: missing}\n    s3: {key_prefix: m/}\n", "")
	code, out = e.runEnv(2*time.Minute, env, "doctor", "-config", missing)
	e.assertDoctorMissingTable(code, out, 2)
}

// assertDoctorMissingTable checks a doctor run whose config names a table
// that does not exist, as targets[target]: it fails naming the table and
// what to do, leaves nothing in the bucket, and logs no secret.
func (e *env) assertDoctorMissingTable(code int, out string, target int) {
	e.t.Helper()
	table := fmt.Sprintf(`targets[%d] "%s"."missing"`, target, e.schema)
	if code == 0 || !strings.Contains(out, "FAIL  table     "+table+": ") ||
		!strings.Contains(out, fmt.Sprintf("create the table, or correct targets[%d].redshift.table", target)) ||
		!strings.Contains(out, "doctor: 1 check(s) failed: table "+table) {
		e.t.Errorf("doctor with a missing table: exit %d, output:\n%s", code, out)
	}
	left, err := e.st.S3().Client().ListObjectsV2(e.t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(e.bucket)})
	if err != nil {
		e.t.Fatal(err)
	}
	if len(left.Contents) != 0 {
		e.t.Errorf("doctor left %d objects behind, the first %s", len(left.Contents), aws.ToString(left.Contents[0].Key))
	}
	e.assertNoSecrets()
}
