package admin

import "regexp"

// A fault that hits 1,000 jobs gives 1,000 texts that differ only in what
// Redshift and S3 make up per request: the manifest's name, request ids,
// query and process numbers. Grouped raw, rin-journal stats would show 1,000
// "distinct" errors; normalized, it shows one line with a count. Object
// keys, bucket names and status codes are kept: they say what is wrong.

var errorNoise = []struct {
	re   *regexp.Regexp
	with string
}{
	// rin's manifests: s3://bucket/_rin/manifests/<batch>.manifest
	{regexp.MustCompile(`(s3://[^/\s',]+/)[^\s',]*\.manifest`), "${1}…/<batch>.manifest"},
	{regexp.MustCompile(`\b\d{8}T\d{6}-[0-9a-f]{16}(-rest)?\b`), "<batch>"},
	{regexp.MustCompile(`\b(Rid|ExtRid|RequestID|HostID|request id|Request ID):? ?[A-Za-z0-9+/=_-]+`), "$1 <id>"},
	{regexp.MustCompile(`\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`), "<id>"},
	{regexp.MustCompile(`\b[0-9a-fA-F]{16,}\b`), "<id>"},
	{regexp.MustCompile(`\b\d{4,}\b`), "N"},
}

// normalizeError returns the part of an error's text that is the same
// every time the same fault recurs.
func normalizeError(msg string) string {
	for _, n := range errorNoise {
		msg = n.re.ReplaceAllString(msg, n.with)
	}
	return msg
}
