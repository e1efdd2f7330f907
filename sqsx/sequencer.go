package sqsx

import "strings"

// CompareSequencers orders two S3 event sequencers of the same object key:
// -1 if a is older, 0 if equal, +1 if a is newer. S3 documents them as
// hexadecimal strings of varying length, to be compared after the shorter
// is left-padded with zeros; rin also ignores case. Sequencers of different
// keys are not comparable, and an empty sequencer is older than any other.
func CompareSequencers(a, b string) int {
	a, b = strings.ToUpper(a), strings.ToUpper(b)
	if n := len(b) - len(a); n > 0 {
		a = strings.Repeat("0", n) + a
	} else if n < 0 {
		b = strings.Repeat("0", -n) + b
	}
	return strings.Compare(a, b)
}
