package main

import (
	"log/slog"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	rsapi "github.com/aws/aws-sdk-go-v2/service/redshift"
	"github.com/aws/aws-sdk-go-v2/service/redshiftdata"

	"github.com/rinhq/rin/config"
	"github.com/rinhq/rin/fsm"
	"github.com/rinhq/rin/redshift"
)

// newCopier builds the Copier for cfg's endpoints: lib/pq for postgres,
// the Data API for redshift-data, one Dispatch routing each batch to its
// endpoint's driver. The daemon and Lambda mode share it.
func newCopier(cfg *config.Config, ac aws.Config, log *slog.Logger) (fsm.Copier, func()) {
	regions, store := bucketRegions(cfg, ac)
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
	timeouts := redshift.Timeouts{Lock: cfg.Batch.LockTimeout.D(), Copy: cfg.Batch.CopyTimeout.D()}
	// A connection per concurrent COPY, one for a background ledger prune
	// and one for the rest (reads of the ledger).
	pq := redshift.New(redshift.Options{
		Endpoints: pqEndpoints, Credentials: creds,
		Ledger: cfg.Ledger, Manifest: cfg.Manifest, Store: store, ClusterCredentials: rsapi.NewFromConfig(ac),
		MaxConns: cfg.Batch.Concurrency + 2, Timeouts: timeouts, Logger: log,
	})
	copier := redshift.Dispatch{}
	for e := range pqEndpoints {
		copier[e] = pq
	}
	closeAll := func() { pq.Close() }
	if len(dataEndpoints) > 0 {
		data := redshift.NewDataAPI(redshift.DataAPIOptions{
			Endpoints: dataEndpoints, Credentials: creds,
			Ledger: cfg.Ledger, Manifest: cfg.Manifest, Store: store,
			Client: redshiftdata.NewFromConfig(ac), Timeouts: timeouts, Logger: log,
		})
		for e := range dataEndpoints {
			copier[e] = data
		}
		closeAll = func() { pq.Close(); data.Close() }
	}
	clusters := cfg.Endpoints()
	versions := redshift.NewVersions(copier, store, cfg.Overwrites,
		func(endpoint string) (*redshift.LedgerReader, error) { return redshift.LedgerFor(copier, endpoint) })
	regional := redshift.Regional{Next: versions, Regions: regions, ClusterRegion: func(endpoint string) string {
		for _, r := range clusters {
			if r.Endpoint() == endpoint {
				return redshift.ClusterRegionOf(r.Host, ac.Region)
			}
		}
		return ac.Region
	}}
	return regional, closeAll
}

// bucketRegions is the region cache and the S3 store that sends each
// request to its bucket's region. The config's s3.region values are pinned:
// they name their buckets' regions, as in the original Rin.
func bucketRegions(cfg *config.Config, ac aws.Config) (*redshift.BucketRegions, *redshift.RegionalStore) {
	regions := redshift.NewBucketRegions(newS3(ac))
	for _, t := range cfg.Targets {
		if t.S3.Region != "" && t.S3.Bucket != "" {
			regions.Pin(t.S3.Bucket, t.S3.Region)
		}
	}
	var mu sync.Mutex
	clients := map[string]redshift.ObjectStore{}
	return regions, &redshift.RegionalStore{Regions: regions, ClientFor: func(region string) redshift.ObjectStore {
		mu.Lock()
		defer mu.Unlock()
		c := clients[region]
		if c == nil {
			rc := ac.Copy()
			rc.Region = region
			c = newS3(rc)
			clients[region] = c
		}
		return c
	}}
}
