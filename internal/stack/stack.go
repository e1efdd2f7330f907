package stack

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"sync"

	"github.com/rinhq/rin/internal/localaws"
	"github.com/rinhq/rin/internal/proc"
	"github.com/rinhq/rin/internal/stack/postgres"
	"github.com/rinhq/rin/internal/stack/redshiftsim"
)

// Options configures Start. Zero values are fine.
type Options struct {
	Postgres PostgresOptions
	SQS      SQSOptions
	S3       S3Options
	Redshift RedshiftOptions
	// Database is the PostgreSQL database behind the Redshift simulator.
	// Default "dev" (Redshift's default) on a cluster of our own; on an
	// external server (RIN_TEST_POSTGRES_DSN) a unique name, dropped by Close,
	// so concurrent test binaries do not share tables.
	Database string
	Logger   *slog.Logger
}

// RedshiftOptions configures the Redshift simulator.
type RedshiftOptions struct {
	Addr     string // default 127.0.0.1:0
	TLS      *tls.Config
	Password string // what clients must present; see redshiftsim.Config
	// PostgreSQLIsolation turns the simulator's serializable mode off:
	// transactions then get PostgreSQL's READ COMMITTED as they are. By
	// default the stack checks them as Redshift does (error 1023 for one of
	// two conflicting transactions), so that tests run against Redshift's
	// rules.
	PostgreSQLIsolation bool
}

// RedshiftUser is the user name Stack.RedshiftDSN connects as.
const RedshiftUser = localaws.RedshiftUser

// Stack is the whole local AWS stack.
type Stack struct {
	pg       *Postgres
	s3       *S3
	sqs      *SQS
	sim      *redshiftsim.Server
	database string
	dropDB   bool
	password string
	log      *slog.Logger

	closeOnce sync.Once
	closeErr  error
}

// Start starts PostgreSQL, gofakes3, goaws and the Redshift simulator (its
// backend is the PostgreSQL database, its S3 the gofakes3 server). On error
// everything already started is stopped.
func Start(ctx context.Context, opts Options) (_ *Stack, err error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	if opts.Postgres.Logger == nil {
		opts.Postgres.Logger = log
	}
	if opts.SQS.Logger == nil {
		opts.SQS.Logger = log
	}
	if opts.S3.Logger == nil {
		opts.S3.Logger = log
	}
	s := &Stack{log: log, password: opts.Redshift.Password}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.Close())
		}
	}()

	// PostgreSQL and goaws are subprocesses that take a while (initdb, and a
	// go build on the first run): start them concurrently.
	var wg sync.WaitGroup
	var pgErr, sqsErr error
	wg.Add(2)
	go func() { defer wg.Done(); s.pg, pgErr = StartPostgres(ctx, opts.Postgres) }()
	go func() { defer wg.Done(); s.sqs, sqsErr = StartSQS(ctx, opts.SQS) }()
	wg.Wait()
	if pgErr != nil || sqsErr != nil {
		return nil, errors.Join(pgErr, sqsErr)
	}
	if s.s3, err = StartS3(ctx, opts.S3); err != nil {
		return nil, err
	}

	s.database = opts.Database
	if s.database == "" {
		s.database = "dev"
		if s.pg.External() {
			s.database = "rin_" + proc.RandHex(6)
			s.dropDB = true
		}
	}
	backend, err := s.pg.EnsureDatabase(ctx, s.database)
	if err != nil {
		return nil, err
	}
	s.sim, err = redshiftsim.Start(ctx, redshiftsim.Config{
		Backend:  backend,
		S3:       s.s3.Client(),
		Objects:  s.s3.Objects(),
		Addr:     opts.Redshift.Addr,
		TLS:      opts.Redshift.TLS,
		Password: opts.Redshift.Password,
		Logger:   log,

		Serializable: !opts.Redshift.PostgreSQLIsolation,
	})
	if err != nil {
		return nil, fmt.Errorf("start redshift simulator: %w", err)
	}
	log.Info("stack started", "redshift", s.sim.Addr(), "sqs", s.sqs.Endpoint(), "s3", s.s3.Endpoint(), "postgres", postgres.RedactDSN(backend))
	return s, nil
}

// Postgres returns the PostgreSQL server.
func (s *Stack) Postgres() *Postgres { return s.pg }

// S3 returns the S3 emulator.
func (s *Stack) S3() *S3 { return s.s3 }

// SQS returns the SQS emulator.
func (s *Stack) SQS() *SQS { return s.sqs }

// Redshift returns the Redshift simulator (fault injection, stats).
func (s *Stack) Redshift() *redshiftsim.Server { return s.sim }

// SetBucketRegion puts bucket in region for both S3 (requests signed for
// another region get 301 PermanentRedirect) and the Redshift simulator
// (a COPY reading it from another region fails the same way).
func (s *Stack) SetBucketRegion(bucket, region string) {
	s.s3.SetBucketRegion(bucket, region)
	if region == "" {
		region = Region
	}
	s.sim.SetBucketRegion(bucket, region)
}

// Database is the database name behind the simulator; clients connect to
// the simulator with it as dbname.
func (s *Stack) Database() string { return s.database }

// BackendDSN is the PostgreSQL DSN of that database, bypassing the simulator
// (for assertions that must not go through it).
func (s *Stack) BackendDSN() string { return s.pg.DatabaseDSN(s.database) }

// RedshiftHostPort returns the simulator's host and port.
func (s *Stack) RedshiftHostPort() (string, int) {
	host, port, err := net.SplitHostPort(s.sim.Addr())
	if err != nil {
		return s.sim.Addr(), 0
	}
	n, _ := strconv.Atoi(port)
	return host, n
}

// RedshiftDSN is a libpq URL for the simulator (sslmode=disable).
func (s *Stack) RedshiftDSN() string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(RedshiftUser, s.password),
		Host:     s.sim.Addr(),
		Path:     "/" + s.database,
		RawQuery: "sslmode=disable",
	}
	if s.password == "" {
		u.User = url.User(RedshiftUser)
	}
	return u.String()
}

// Env is the environment a separate rin process needs to reach the stack
// through standard AWS settings only (AWS SDKs honour AWS_ENDPOINT_URL_<SERVICE>),
// plus PGSSLMODE=disable for the simulator. gofakes3 needs path-style
// requests; the SDK's S3 endpoint rules use path style by themselves when the
// endpoint host is an IP address, as it is here, so no extra setting is needed.
func (s *Stack) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL_SQS=" + s.sqs.Endpoint(),
		"AWS_ENDPOINT_URL_S3=" + s.s3.Endpoint(),
		"AWS_ACCESS_KEY_ID=" + AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + SecretAccessKey,
		"AWS_REGION=" + Region,
		"AWS_DEFAULT_REGION=" + Region,
		"AWS_REQUEST_CHECKSUM_CALCULATION=when_required",
		"AWS_RESPONSE_CHECKSUM_VALIDATION=when_required",
		"AWS_EC2_METADATA_DISABLED=true",
		"PGSSLMODE=disable",
	}
}

// Close stops everything (simulator first, PostgreSQL last) and reports all
// errors. Safe to call more than once and on a partly started stack.
func (s *Stack) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		if s.sim != nil {
			errs = append(errs, s.sim.Close())
		}
		if s.sqs != nil {
			errs = append(errs, s.sqs.Stop())
		}
		if s.s3 != nil {
			errs = append(errs, s.s3.Close())
		}
		if s.pg != nil {
			if s.dropDB {
				errs = append(errs, s.pg.DropDatabase(context.Background(), s.database))
			}
			errs = append(errs, s.pg.Stop())
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}
