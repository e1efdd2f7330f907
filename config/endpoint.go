package config

import (
	"net"
	"net/url"
	"strconv"
)

// Endpoint is a stable identity of the Redshift database a target writes
// to, for connection pooling and job ids:
//
//	postgres://user@host:5439/dbname
//	redshift-data://user@cluster(name)/dbname
//	redshift-data://workgroup(name)/dbname
//
// It never includes the password, and leaves out sslmode and
// reconnect_on_error, which change how rin connects but not where rows
// land (so changing them does not reopen the dedupe window).
func (r Redshift) Endpoint() string {
	esc := url.PathEscape
	user := ""
	if r.User != "" {
		user = esc(r.User) + "@"
	}
	if r.Driver == DriverRedshiftData {
		where := "cluster(" + esc(r.Cluster) + ")"
		if r.Workgroup != "" {
			where = "workgroup(" + esc(r.Workgroup) + ")"
		}
		return r.Driver + "://" + user + where + "/" + esc(r.DBName)
	}
	s := r.Driver + "://" + user + net.JoinHostPort(r.Host, strconv.Itoa(r.Port)) + "/" + esc(r.DBName)
	q := url.Values{}
	if r.Cluster != "" {
		q.Set("cluster", r.Cluster)
	}
	if r.Workgroup != "" {
		q.Set("workgroup", r.Workgroup)
	}
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

// Endpoints lists the distinct endpoints of the non-discard targets in
// config order (for opening pools and creating the ledger at startup).
func (c *Config) Endpoints() []Redshift {
	var out []Redshift
	seen := map[string]bool{}
	for _, t := range c.Targets {
		if t.Discard {
			continue
		}
		if e := t.Redshift.Endpoint(); !seen[e] {
			seen[e] = true
			out = append(out, t.Redshift)
		}
	}
	return out
}
