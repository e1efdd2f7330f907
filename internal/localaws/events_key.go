package localaws

import "strings"

// EncodeEventKey encodes an object key the way S3 event notifications carry
// it: application/x-www-form-urlencoded style ("red flower.jpg" becomes
// "red+flower.jpg", per the S3 event-structure docs), with "/" left as is.
//
// Evidence for the choice: AWS documents the form encoding; AWS's own events
// keep "/" literal (minio/minio#11665 changed MinIO to match AWS, and every
// published real event shows "dir/file" keys); "=" and ":" arrive as %3D and
// %3A (aws-sdk-js#837, localstack#465). The byte set left unescaped is that of
// Java's URLEncoder (A-Z a-z 0-9 - _ . *), which S3 is written in, plus "/":
// so "~" becomes %7E and "*" stays. Consumers must decode with a form decoder
// (Go: url.QueryUnescape), which accepts any of these variants, never with a
// path decoder (that would keep "+" instead of a space).
//
// Example: "a b+c/ü'x;.json" -> "a+b%2Bc/%C3%BC%27x%3B.json".
func EncodeEventKey(key string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(key) * 3 / 2)
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '*', c == '/':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}
