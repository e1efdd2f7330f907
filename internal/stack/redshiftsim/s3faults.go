package redshiftsim

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// A real cluster reads S3 with the COPY's credentials, in the COPY's region,
// and S3 refuses it for reasons that belong to a bucket or to the
// credentials, never to one object: access denied, a bucket in another
// region, an expired session token, an unknown access key. These rules make
// the simulator refuse the same way, with Redshift's texts, so that rin's
// classification of them can be tested end to end (see REFERENCE.md §5).

// defaultRegion is the cluster's region until SetClusterRegion.
const defaultRegion = "us-east-1"

// s3Prefix is one DenyS3 rule.
type s3Prefix struct{ bucket, prefix string }

// s3Fault is what S3 answers instead of the object.
type s3Fault struct {
	status int
	code   string // S3 error code: AccessDenied, PermanentRedirect, ...
	text   string // S3's message
}

var (
	faultAccessDenied = s3Fault{403, "AccessDenied", "Access Denied"}
	faultWrongRegion  = s3Fault{301, "PermanentRedirect", "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint."}
	faultExpiredToken = s3Fault{400, "ExpiredToken", "The provided token has expired."}
	faultInvalidKeyID = s3Fault{403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."}
)

// The pieces of Redshift's S3 error texts.
const (
	manifestErrorStart = "Problem reading manifest file - "
	s3DetailDashes     = "  -----------------------------------------------\n"
	s3ObjectLocation   = "table_s3_scanner.cpp:355"
	s3ListingLocation  = "s3_utility.cpp:688"
	redshiftS3ErrCode  = 8001
)

// DenyS3 makes S3 refuse (403 AccessDenied) every object whose key starts
// with prefix in bucket ("" denies the whole bucket): a COPY that has to
// read the manifest, list a prefix or read a data file there fails.
func (s *Server) DenyS3(bucket, prefix string) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	r := s3Prefix{bucket, prefix}
	if !slices.Contains(s.faults.denied, r) {
		s.faults.denied = append(s.faults.denied, r)
	}
}

// AllowS3 removes the DenyS3 rule for exactly that bucket and prefix.
func (s *Server) AllowS3(bucket, prefix string) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.denied = slices.DeleteFunc(s.faults.denied, func(r s3Prefix) bool { return r == s3Prefix{bucket, prefix} })
}

// SetClusterRegion sets the cluster's region (default us-east-1): where a
// COPY without REGION reads S3, and where buckets not placed by
// SetBucketRegion live. "" restores the default.
func (s *Server) SetClusterRegion(region string) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.clusterRegion = region
}

// SetBucketRegion places bucket in region; "" puts it back in the
// cluster's region. Every object a COPY reads, its manifest included, must
// be in the COPY's region (REGION 'r', else the cluster's), or the COPY
// fails with S3's 301 PermanentRedirect.
func (s *Server) SetBucketRegion(bucket, region string) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	if region == "" {
		delete(s.faults.bucketRegions, bucket)
		return
	}
	if s.faults.bucketRegions == nil {
		s.faults.bucketRegions = map[string]string{}
	}
	s.faults.bucketRegions[bucket] = region
}

// ExpireToken makes every COPY that authenticates with this session token
// (token=... in CREDENTIALS, or SESSION_TOKEN) fail with S3's 400
// ExpiredToken.
func (s *Server) ExpireToken(token string) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	if s.faults.expiredTokens == nil {
		s.faults.expiredTokens = map[string]bool{}
	}
	s.faults.expiredTokens[token] = true
}

// InvalidAccessKey makes every COPY that authenticates with this access key
// ID (aws_access_key_id=... in CREDENTIALS, or ACCESS_KEY_ID) fail with S3's
// 403 InvalidAccessKeyId.
func (s *Server) InvalidAccessKey(accessKeyID string) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	if s.faults.invalidKeys == nil {
		s.faults.invalidKeys = map[string]bool{}
	}
	s.faults.invalidKeys[accessKeyID] = true
}

// s3Check returns what S3 answers a COPY reading bucket/key (a prefix, for
// a listing), or nil when the read is allowed. Credentials are checked
// first, as S3 authenticates before it looks at the bucket.
func (s *Server) s3Check(spec *copySpec, bucket, key string) *s3Fault {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	f := &s.faults
	switch {
	case spec.accessKeyID != "" && f.invalidKeys[spec.accessKeyID]:
		return &faultInvalidKeyID
	case spec.sessionToken != "" && f.expiredTokens[spec.sessionToken]:
		return &faultExpiredToken
	}
	cluster := f.clusterRegion
	if cluster == "" {
		cluster = defaultRegion
	}
	want := spec.region
	if want == "" {
		want = cluster
	}
	have := f.bucketRegions[bucket]
	if have == "" {
		have = cluster
	}
	if have != want {
		return &faultWrongRegion
	}
	for _, r := range f.denied {
		if r.bucket == bucket && strings.HasPrefix(key, r.prefix) {
			return &faultAccessDenied
		}
	}
	return nil
}

// s3ServiceText is the S3ServiceException text as Redshift prints it; the
// DETAIL block repeats it without the ExtRid.
func (f *s3Fault) s3ServiceText(rid, extRid string) string {
	t := fmt.Sprintf("S3ServiceException:%s,Status %d,Error %s,Rid %s", f.text, f.status, f.code, rid)
	if extRid != "" {
		t += ",ExtRid " + extRid
	}
	return t + ",CanRetry 1"
}

// manifestError is the failure to read the COPY's manifest.
func (f *s3Fault) manifestError() *pgError {
	return &pgError{Code: "XX000", Message: manifestErrorStart + f.s3ServiceText(newRid(), newExtRid())}
}

// objectError is the failure to list or read a data file: the message, and
// Redshift's DETAIL block naming what was being read.
func (f *s3Fault) objectError(context, location string, query int32, pid uint32) *pgError {
	rid := newRid()
	var d strings.Builder
	d.WriteString("\n" + s3DetailDashes)
	fmt.Fprintf(&d, "  error:  %s\n", f.s3ServiceText(rid, ""))
	fmt.Fprintf(&d, "  code:      %d\n", redshiftS3ErrCode)
	fmt.Fprintf(&d, "  context:   %s\n", context)
	fmt.Fprintf(&d, "  query:     %d\n", query)
	fmt.Fprintf(&d, "  location:  %s\n", location)
	fmt.Fprintf(&d, "  process:   query1_123_%d [pid=%d]\n", query, pid)
	d.WriteString(s3DetailDashes)
	return &pgError{Code: "XX000", Message: f.s3ServiceText(rid, newExtRid()), Detail: d.String()}
}

// newRid is an S3 request ID: 16 upper-case hex digits.
func newRid() string { return fmt.Sprintf("%016X", rand.Uint64()) }

// newExtRid is an S3 extended request ID (x-amz-id-2): base64 of random
// bytes, 76 characters like the real ones.
func newExtRid() string {
	b := make([]byte, 57)
	for i := range b {
		b[i] = byte(rand.Uint32())
	}
	return base64.StdEncoding.EncodeToString(b)
}
