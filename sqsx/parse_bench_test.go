package sqsx

import (
	"fmt"
	"testing"
	"time"

	"github.com/rinhq/rin/internal/localaws"
)

// benchEvent is a typical object event: a partitioned log key (its "=" are
// %-encoded in the body, as S3 does) in a versioned bucket.
func benchEvent(i int) localaws.ObjectEvent {
	return localaws.ObjectEvent{
		Bucket:    "acme-prod-events-us-east-1",
		Key:       fmt.Sprintf("logs/app=checkout/dt=2024-05-01/hour=12/part-%05d-3f2a9c1e.json.gz", i),
		Size:      1_048_576 + int64(i),
		ETag:      "9b2cf535f27731c974343645a3985328",
		VersionID: "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo",
		EventName: "ObjectCreated:Put",
		Time:      time.Date(2024, 5, 1, 12, 34, 56, 789e6, time.UTC).Add(time.Duration(i) * time.Millisecond),
	}
}

// BenchmarkParseBody measures S3 notification bodies as S3 delivers them to
// SQS: one record (about 1 KB, the usual case) and ten records.
func BenchmarkParseBody(b *testing.B) {
	for _, n := range []int{1, 10} {
		evs := make([]localaws.ObjectEvent, n)
		for i := range evs {
			evs[i] = benchEvent(i)
		}
		body := localaws.S3EventBody(evs...)
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				recs, err := ParseBody(body)
				if err != nil || len(recs) != n {
					b.Fatalf("ParseBody: %d records, %v", len(recs), err)
				}
			}
		})
	}
}
