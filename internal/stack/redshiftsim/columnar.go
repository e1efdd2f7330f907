package redshiftsim

import (
	"fmt"
	"strings"
)

// Redshift loads Parquet and ORC through Spectrum, under rules of its own
// (REFERENCE.md §5; AWS's "COPY from columnar data formats"): only a short
// list of COPY options is accepted, REGION among the refused ones (the
// bucket must be in the cluster's region); every manifest entry must carry
// meta.content_length, the object's exact size; a file's columns map onto
// the table's by position and must be as many (FILLRECORD lets a file have
// fewer); and an error fails the whole COPY (no MAXERROR). The simulator
// enforces them with Redshift's texts, so that a loader that gets them
// wrong fails here as it would on a cluster. Parquet loads (parquet.go);
// ORC passes the option checks and is then refused.

// columnarOptions are the options Redshift accepts with a columnar format:
// FORMAT AS, the credentials in any form, MANIFEST, ACCEPTINVCHARS,
// FILLRECORD, SERIALIZETOJSON, EXPLICIT_IDS and STATUPDATE.
var columnarOptions = map[string]bool{
	"FORMAT": true, "PARQUET": true, "ORC": true,
	"CREDENTIALS": true, "IAM_ROLE": true, "ACCESS_KEY_ID": true, "SECRET_ACCESS_KEY": true, "SESSION_TOKEN": true,
	"MANIFEST": true, "ACCEPTINVCHARS": true, "FILLRECORD": true, "SERIALIZETOJSON": true,
	"EXPLICIT_IDS": true, "STATUPDATE": true,
}

// columnarCheck refuses what Redshift refuses with a columnar format, the
// first offending option as written. The text is Redshift's; its SQLSTATE
// was read as 0A000 on a cluster (for TRUNCATECOLUMNS, same message).
func columnarCheck(spec *copySpec) error {
	for _, o := range spec.options {
		if !columnarOptions[o] {
			return notForColumnar(o, spec.columnar)
		}
	}
	switch spec.format {
	case formatJSON:
		return notForColumnar("JSON", spec.columnar)
	case formatCSV:
		return notForColumnar("CSV", spec.columnar)
	}
	if spec.columnar == "ORC" {
		return errUnsupported("redshiftsim: FORMAT AS ORC is not simulated")
	}
	return nil
}

func notForColumnar(option, format string) error {
	return errUnsupported("%s argument is not supported for %s based COPY", option, format)
}

// spectrumError is a failure in Spectrum, which Redshift reports with the
// error as the message and a DETAIL block like the one of an S3 error. The
// COPY that hits it fills in its query id and process (pgError).
type spectrumError struct {
	message  string // the message, repeated as the block's "error:"
	code     int
	context  string
	location string
	process  string // Redshift's process name: padbmaster (leader) or worker_thread
}

func (e *spectrumError) Error() string { return e.message + " " + e.context }

// pgError is the error as the client sees it, for the COPY's query id and
// the session's process id.
func (e *spectrumError) pgError(query int32, pid uint32) *pgError {
	var d strings.Builder
	d.WriteString("\n" + s3DetailDashes)
	fmt.Fprintf(&d, "  error:  %s\n", e.message)
	fmt.Fprintf(&d, "  code:      %d\n", e.code)
	fmt.Fprintf(&d, "  context:   %s\n", e.context)
	fmt.Fprintf(&d, "  query:     %d\n", query)
	fmt.Fprintf(&d, "  location:  %s\n", e.location)
	fmt.Fprintf(&d, "  process:   %s [pid=%d]\n", e.process, pid)
	d.WriteString(s3DetailDashes)
	return &pgError{Code: "XX000", Message: e.message, Detail: d.String()}
}

// spectrumScanError is Spectrum's error for a file it cannot scan.
func spectrumScanError(context string) *spectrumError {
	return &spectrumError{message: "Spectrum Scan Error", code: 15001, context: context,
		location: "dory_util.cpp:1450", process: "worker_thread"}
}

// columnarManifestCheck: every entry of a columnar COPY's manifest needs
// meta.content_length. Redshift checks this on the leader, before reading
// any file (text, code and location as a cluster prints them).
func columnarManifestCheck(entries []inputEntry) error {
	for _, e := range entries {
		switch {
		case !e.hasMeta:
			return &spectrumError{message: "File entry does not have 'meta' key.", code: 15003,
				location: "spectrum_manifest.cpp:204", process: "padbmaster"}
		case e.length < 0:
			return &spectrumError{message: "File entry does not have 'content_length' key in 'meta'.", code: 15003,
				location: "spectrum_manifest.cpp:204", process: "padbmaster"}
		}
	}
	return nil
}

// columnarSizeCheck: Spectrum reads a Parquet file by ranges ending at the
// manifest's content_length, so a length past the object's end is S3's 416,
// and a shorter one finds no footer where it looks.
func columnarSizeCheck(e inputEntry, name string, size int) error {
	switch {
	case e.length < 0 || e.length == int64(size):
		return nil
	case e.length > int64(size):
		return spectrumScanError("HTTP response error code: 416 Message: InvalidRange The requested range is not satisfiable, File name: " + name)
	default:
		return spectrumScanError(fmt.Sprintf("File '%s' has an invalid Parquet footer at content_length %d (the object has %d bytes)", name, e.length, size))
	}
}

// spectrumName is how Spectrum names a file in its errors: the object's
// HTTPS URL in the cluster's region (a columnar bucket is in it), the key
// escaped as S3 does in a request path.
func (s *Server) spectrumName(bucket, key string) string {
	s.faults.mu.Lock()
	region := s.faults.clusterRegion
	s.faults.mu.Unlock()
	if region == "" {
		region = defaultRegion
	}
	return "https://s3." + region + ".amazonaws.com/" + s3PathEscape(bucket) + "/" + s3PathEscape(key)
}

// s3PathEscape percent-encodes all but unreserved characters and '/'.
func s3PathEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~/", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
