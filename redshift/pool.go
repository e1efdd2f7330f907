package redshift

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	rsapi "github.com/aws/aws-sdk-go-v2/service/redshift"
	"github.com/lib/pq"
	"github.com/rinhq/rin/config"
)

// ClusterCredentialsAPI is the part of the Redshift API used for temporary
// passwords (an empty redshift.password in the config).
type ClusterCredentialsAPI interface {
	GetClusterCredentials(ctx context.Context, in *rsapi.GetClusterCredentialsInput, opts ...func(*rsapi.Options)) (*rsapi.GetClusterCredentialsOutput, error)
}

// connector opens lib/pq connections to one endpoint. With an empty
// password it fetches a temporary one from GetClusterCredentials and
// refreshes it a minute before it expires. database/sql drops connections
// that report driver.ErrBadConn, so a broken connection is replaced, never
// reused.
type connector struct {
	cfg  config.Redshift
	api  ClusterCredentialsAPI
	mu   sync.Mutex
	user string
	pass string
	exp  time.Time
}

func (c *connector) Driver() driver.Driver { return &pq.Driver{} }

func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	user, pass, err := c.credentials(ctx)
	if err != nil {
		return nil, err
	}
	pc, err := pq.NewConnector(dsn(c.cfg, user, pass))
	if err != nil {
		return nil, err
	}
	return pc.Connect(ctx)
}

func (c *connector) credentials(ctx context.Context) (user, pass string, err error) {
	if c.cfg.Password != "" {
		return c.cfg.User, c.cfg.Password, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pass != "" && time.Until(c.exp) > time.Minute {
		return c.user, c.pass, nil
	}
	if c.api == nil {
		return "", "", fmt.Errorf("redshift %s: password is empty and no Redshift API client is configured for GetClusterCredentials", c.cfg.Host)
	}
	cluster := c.cfg.Cluster
	if cluster == "" {
		cluster, _, _ = strings.Cut(c.cfg.Host, ".")
	}
	out, err := c.api.GetClusterCredentials(ctx, &rsapi.GetClusterCredentialsInput{
		ClusterIdentifier: aws.String(cluster),
		DbUser:            aws.String(c.cfg.User),
		DbName:            aws.String(c.cfg.DBName),
		DurationSeconds:   aws.Int32(3600),
	})
	if err != nil {
		return "", "", fmt.Errorf("redshift %s: GetClusterCredentials for cluster %q user %q: %w", c.cfg.Host, cluster, c.cfg.User, err)
	}
	c.user, c.pass = aws.ToString(out.DbUser), aws.ToString(out.DbPassword)
	c.exp = time.Now().Add(15 * time.Minute)
	if out.Expiration != nil {
		c.exp = *out.Expiration
	}
	if c.user == "" {
		c.user = c.cfg.User
	}
	return c.user, c.pass, nil
}

// dsn builds a lib/pq key=value connection string. It holds the password:
// never log it.
func dsn(r config.Redshift, user, pass string) string {
	// config resolves both ($PGSSLMODE included, read there once); these
	// are for a config.Redshift built by hand.
	sslmode := r.SSLMode
	if sslmode == "" {
		sslmode = config.DefaultSSLMode
	}
	kv := func(k, v string) string {
		v = strings.ReplaceAll(v, `\`, `\\`)
		v = strings.ReplaceAll(v, `'`, `\'`)
		return k + "='" + v + "'"
	}
	port := r.Port
	if port == 0 {
		port = config.DefaultPort
	}
	parts := []string{
		kv("host", r.Host), kv("port", strconv.Itoa(port)), kv("dbname", r.DBName),
		kv("user", user), kv("sslmode", sslmode), kv("connect_timeout", "10"),
		kv("application_name", "rin"),
	}
	if pass != "" {
		parts = append(parts, kv("password", pass))
	}
	return strings.Join(parts, " ")
}

// openDB opens the pool of one endpoint.
func openDB(r config.Redshift, api ClusterCredentialsAPI, maxConns int) *sql.DB {
	db := sql.OpenDB(&connector{cfg: r, api: api})
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(time.Hour)
	return db
}
