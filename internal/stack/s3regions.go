package stack

import (
	"encoding/xml"
	"net/http"
	"regexp"
	"strings"
	"sync"
)

// Real S3 keeps each bucket in one region and refuses a path-style request
// signed for another with 301 PermanentRedirect (with the bucket's region
// in x-amz-bucket-region; a HEAD gets no body), while GetBucketLocation is
// answered from any region. gofakes3 knows no regions, so these rules sit
// in front of it: a bucket given a region with SetBucketRegion behaves as
// S3 does; the others accept any signing region, as before.

// regionRules is the S3 emulator's bucket → region map.
type regionRules struct {
	mu      sync.Mutex
	regions map[string]string
}

// SetBucketRegion puts bucket in region for the S3 emulator ("" lifts the
// rule). Stack.SetBucketRegion also tells the Redshift simulator.
func (s *S3) SetBucketRegion(bucket, region string) {
	s.regions.mu.Lock()
	defer s.regions.mu.Unlock()
	if s.regions.regions == nil {
		s.regions.regions = map[string]string{}
	}
	if region == "" {
		delete(s.regions.regions, bucket)
		return
	}
	s.regions.regions[bucket] = region
}

func (s *S3) bucketRegion(bucket string) string {
	s.regions.mu.Lock()
	defer s.regions.mu.Unlock()
	return s.regions.regions[bucket]
}

// signedRegion reads the region of a SigV4 Authorization header's scope:
// Credential=AKID/20261206/eu-west-1/s3/aws4_request.
var signedRegion = regexp.MustCompile(`Credential=[^/,]+/\d{8}/([a-z0-9-]+)/s3/aws4_request`)

// withRegions wraps the gofakes3 handler with the region rules.
func (s *S3) withRegions(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bucket, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if bucket == "" {
			next.ServeHTTP(w, r)
			return
		}
		region := s.bucketRegion(bucket)
		if _, ok := r.URL.Query()["location"]; ok && r.Method == http.MethodGet {
			// GetBucketLocation: answered from any region; empty means us-east-1.
			if region == "us-east-1" || region == "" {
				region = ""
			}
			w.Header().Set("Content-Type", "application/xml")
			xml.NewEncoder(w).Encode(struct {
				XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ LocationConstraint"`
				Region  string   `xml:",chardata"`
			}{Region: region})
			return
		}
		if region == "" {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("x-amz-bucket-region", region)
		m := signedRegion.FindStringSubmatch(r.Header.Get("Authorization"))
		if m == nil || m[1] == region {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusMovedPermanently)
		if r.Method == http.MethodHead {
			return
		}
		xml.NewEncoder(w).Encode(struct {
			XMLName  xml.Name `xml:"Error"`
			Code     string
			Message  string
			Endpoint string
			Bucket   string
		}{
			Code:     "PermanentRedirect",
			Message:  "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.",
			Endpoint: "s3." + region + ".amazonaws.com",
			Bucket:   bucket,
		})
	})
}
