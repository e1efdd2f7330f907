package main

import (
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	rsapi "github.com/aws/aws-sdk-go-v2/service/redshift"
	"github.com/aws/aws-sdk-go-v2/service/redshiftdata"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/redshift"
)

// newCopier builds the Copier for cfg's endpoints: lib/pq for postgres,
// the Data API for redshift-data, one Dispatch routing each batch to its
// endpoint's driver. The daemon and Lambda mode share it.
func newCopier(cfg *config.Config, ac aws.Config, store *s3.Client, log *slog.Logger) (fsm.Copier, func()) {
	pqEndpoints, dataEndpoints := map[string]config.Redshift{}, map[string]config.Redshift{}
	for _, r := range cfg.Endpoints() {
		if r.Driver == config.DriverRedshiftData {
			dataEndpoints[r.Endpoint()] = r
		} else {
			pqEndpoints[r.Endpoint()] = r
		}
	}
	creds := redshift.CopyCredentials{
		IAMRole: cfg.Credentials.AWSIAMRole, AccessKeyID: cfg.Credentials.AWSAccessKeyID,
		SecretAccessKey: cfg.Credentials.AWSSecretAccessKey, Provider: ac.Credentials,
	}
	pq := redshift.New(redshift.Options{
		Endpoints: pqEndpoints, Credentials: creds,
		Ledger: cfg.Ledger, Manifest: cfg.Manifest, Store: store, ClusterCredentials: rsapi.NewFromConfig(ac),
		MaxConns: cfg.Batch.Concurrency + 1, Logger: log,
	})
	copier := redshift.Dispatch{}
	for e := range pqEndpoints {
		copier[e] = pq
	}
	if len(dataEndpoints) > 0 {
		data := redshift.NewDataAPI(redshift.DataAPIOptions{
			Endpoints: dataEndpoints, Credentials: creds,
			Ledger: cfg.Ledger, Manifest: cfg.Manifest, Store: store,
			Client: redshiftdata.NewFromConfig(ac), Logger: log,
		})
		for e := range dataEndpoints {
			copier[e] = data
		}
	}
	return copier, func() { pq.Close() }
}
