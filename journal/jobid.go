package journal

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
)

// A job's id is what dedupes it, in the journal and in the Redshift ledger,
// so it must name what makes two loads the same: the same object version
// bound for the same table of the same database. Up to this version rin
// hashed the whole endpoint string, user and driver included, so a config
// that only renamed the user (or moved a cluster from lib/pq to the Data
// API) gave every object new ids, and the ledger could no longer tell that
// an object had been loaded. JobID now hashes the database (Database)
// instead. Ids made before keep working: the ledger is asked about every
// id a load may have been recorded under (Job.IDs), LegacyJobID included.

// JobID derives a job's id from what makes it the same job: the same object
// version bound for the same table of the same database. A duplicate SQS
// delivery or a duplicate S3 event therefore maps to the job that already
// exists, while an overwritten object (new version) is a new job. endpoint
// is the target's config.Redshift.Endpoint(); only its Database counts.
func JobID(endpoint, schema, table, bucket, key, version string) string {
	return hashParts("rin-job/2", Database(endpoint), schema, table, bucket, key, version)
}

// LegacyJobID is the id rin gave the same job before JobID left the user
// and driver out: the hash of the whole endpoint string. Ledger rows and
// journals of those versions hold it.
func LegacyJobID(endpoint, schema, table, bucket, key, version string) string {
	return hashParts(endpoint, schema, table, bucket, key, version)
}

// IDs lists every id the job's load may be recorded under: its own, then
// JobID and LegacyJobID of its fields (a job journaled by an older rin has
// the legacy one as its own), without repeats.
func (j Job) IDs() []string {
	out := []string{j.ID}
	for _, id := range []string{
		JobID(j.Endpoint, j.Schema, j.Table, j.Bucket, j.Key, j.Version),
		LegacyJobID(j.Endpoint, j.Schema, j.Table, j.Bucket, j.Key, j.Version),
	} {
		if id != out[0] && (len(out) < 2 || id != out[1]) {
			out = append(out, id)
		}
	}
	return out
}

// Database is the identity of the Redshift database an endpoint string
// (config.Redshift.Endpoint) writes to, without what only changes how rin
// connects — the driver and the user — and in lower case, as Redshift
// folds names:
//
//	postgres://u@Host:5439/dev               host:5439/dev
//	postgres://u@h:5439/dev?cluster=c        cluster(c)/dev
//	postgres://u@h:5439/dev?workgroup=w      workgroup(w)/dev
//	redshift-data://u@cluster(c)/dev         cluster(c)/dev
//	redshift-data://workgroup(w)/dev         workgroup(w)/dev
//
// A cluster or workgroup named in the config identifies the database
// whatever host or driver reaches it. A string of any other form is its own
// identity.
func Database(endpoint string) string {
	_, rest, ok := strings.Cut(endpoint, "://")
	if !ok {
		return endpoint
	}
	rest, query, _ := strings.Cut(rest, "?")
	where, db, ok := strings.Cut(rest, "/")
	if !ok {
		return endpoint
	}
	if i := strings.LastIndexByte(where, '@'); i >= 0 {
		where = where[i+1:] // the user is escaped, so its own '@' is %40
	}
	if q, err := url.ParseQuery(query); err == nil {
		switch {
		case q.Get("cluster") != "":
			where = "cluster(" + url.PathEscape(q.Get("cluster")) + ")"
		case q.Get("workgroup") != "":
			where = "workgroup(" + url.PathEscape(q.Get("workgroup")) + ")"
		}
	}
	return strings.ToLower(where + "/" + db)
}

// hashParts hashes parts, each length-prefixed so that ("ab","c") and
// ("a","bc") differ, into 32 hex digits.
func hashParts(parts ...string) string {
	h := sha256.New()
	for _, s := range parts {
		fmt.Fprintf(h, "%d:%s|", len(s), s)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
