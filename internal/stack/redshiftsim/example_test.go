package redshiftsim_test

import (
	"context"
	"database/sql"
	"log"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	_ "github.com/lib/pq"

	"github.com/rinhq/rin/internal/stack/redshiftsim"
)

// A simulator in front of a local PostgreSQL, loaded through lib/pq exactly
// like a Redshift cluster, with a fault injected for the next COPY.
func Example() {
	ctx := context.Background()
	var s3client *s3.Client // path-style client for gofakes3 or MinIO
	sim, err := redshiftsim.Start(ctx, redshiftsim.Config{
		Backend: "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
		S3:      s3client,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer sim.Close()
	go func() { _ = http.ListenAndServe("127.0.0.1:0", sim.ControlHandler()) }()

	db, err := sql.Open("postgres", "postgres://rin@"+sim.Addr()+"/dev?sslmode=disable")
	if err != nil {
		log.Fatal(err)
	}
	sim.FailNextCopies(1, "XX000", "S3ServiceException: Slow Down")
	tx, _ := db.BeginTx(ctx, nil)
	_, err = tx.ExecContext(ctx, `/* Rin */ COPY public.events FROM 's3://bucket/batch/0001/' IAM_ROLE default JSON 'auto' GZIP`)
	log.Println(err) // pq: S3ServiceException: Slow Down; the transaction is aborted
	_ = tx.Rollback()
}
