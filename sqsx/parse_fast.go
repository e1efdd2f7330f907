package sqsx

import (
	"bytes"
	"encoding/json"
	"strings"
)

// parseFast parses the body rin nearly always gets, a plain S3 notification
// ({"Records":[...]}) of object creations, in one json.Unmarshal instead of
// the several parseSlow needs. It only says ok when parseSlow would return
// the same records and no error; for anything else, including every body
// parseSlow rejects or whose records it would skip, it declines and leaves
// the body to parseSlow, so that skipped records and error messages always
// come from one place.
func parseFast(body string) (recs []Record, ok bool) {
	b := []byte(body)
	if !plainNames(b) {
		return nil, false
	}
	var msg struct {
		Records []s3Record `json:"Records"`
	}
	if json.Unmarshal(b, &msg) != nil || len(msg.Records) == 0 {
		return nil, false
	}
	recs = make([]Record, 0, len(msg.Records))
	for i := range msg.Records {
		r := &msg.Records[i]
		// parseSlow skips other events without looking at their fields;
		// declining keeps that rule in one place.
		name := strings.TrimPrefix(r.EventName, "s3:")
		if !strings.HasPrefix(name, "ObjectCreated:") {
			return nil, false
		}
		rec, err := r.record(name)
		if err != nil {
			return nil, false
		}
		recs = append(recs, rec)
	}
	return recs, true
}

// plainNames reports whether the member names in body leave json.Unmarshal
// into parseFast's struct no room to read something other than what
// parseSlow reads by exact name: the top-level object has one member, named
// exactly "Records", and each object directly inside it (each record, once
// json.Unmarshal has checked that Records is an array of objects) has
// exactly one member named eventName and none whose name differs from it
// only in case (bytes.EqualFold is the folding encoding/json uses). Without
// this, json.Unmarshal, which matches names case-insensitively and lets a
// repeated member overwrite or merge into an earlier one, would accept
// {"records":...}, read "EventName" in place of "eventName", or mix two
// "Records" arrays. The other fields of a record need no check: parseSlow
// also reads them with json.Unmarshal into s3Record, so it matches them
// the same lenient way.
//
// Names are compared as written, without unescaping: a body whose top
// level or records have a name with an escape goes to parseSlow.
// plainNames does not validate JSON (json.Unmarshal does); on invalid input
// it returns an answer that does not matter, and never panics.
func plainNames(b []byte) bool {
	depth, records, eventNames := 0, 0, 0
	var prev byte // the last structural character, or '"' after a string
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch c {
		case '{', '[':
			depth++
			if depth == 3 {
				eventNames = 0
			}
		case '}', ']':
			if depth == 3 && eventNames != 1 {
				return false
			}
			depth--
		case ',', ':':
		case '"':
			end, escaped := i+1, false
			for end < len(b) && b[end] != '"' {
				if b[end] == '\\' {
					end, escaped = end+1, true
				}
				end++
			}
			if end >= len(b) {
				return false
			}
			// In an object, a string after '{' or ',' is a member name.
			// At depths 1 and 3 any container that is not an object
			// makes json.Unmarshal fail, so the guess cannot mislead.
			if prev == '{' || prev == ',' {
				name := b[i+1 : end]
				switch depth {
				case 1:
					records++
					if string(name) != "Records" {
						return false
					}
				case 3:
					switch {
					case escaped:
						return false // might stand for "eventName", as "event\u004eame" does
					case string(name) == "eventName":
						eventNames++
					case bytes.EqualFold(name, []byte("eventName")):
						return false
					}
				}
			}
			i = end
		default:
			continue // white space and the insides of numbers, true, false, null
		}
		prev = c
	}
	return records == 1
}
