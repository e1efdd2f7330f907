package config

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by Parse and Load wraps one of them
// (test with errors.Is), and validation failures are *FieldError values
// that also name the offending key and, when known, its line.
var (
	// ErrEmpty: the document has no content.
	ErrEmpty = errors.New("config is empty")
	// ErrSyntax: the document is not valid YAML.
	ErrSyntax = errors.New("invalid YAML")
	// ErrTemplate: a {{ ... }} template could not be parsed or executed.
	ErrTemplate = errors.New("template error")
	// ErrEnvNotSet: must_env named an environment variable that is not set.
	ErrEnvNotSet = errors.New("environment variable is not set")
	// ErrUnknownKey: a key rin does not know (usually a typo).
	ErrUnknownKey = errors.New("unknown key")
	// ErrRequired: a required value is missing.
	ErrRequired = errors.New("required")
	// ErrInvalid: a value has the wrong type or is out of range.
	ErrInvalid = errors.New("invalid value")
	// ErrRegexp: key_regexp does not compile.
	ErrRegexp = errors.New("invalid regexp")
	// ErrCapture: schema or table refers to a capture group that cannot exist.
	ErrCapture = errors.New("invalid capture reference")
	// ErrIdentifier: a schema or table name Redshift cannot accept
	// (empty, longer than 127 bytes, invalid UTF-8, control characters).
	ErrIdentifier = errors.New("invalid identifier")
	// ErrLocation: the config location cannot be read.
	ErrLocation = errors.New("cannot read config")
)

// FieldError is one problem found in a config file. It names the key with
// the same dotted path a person would use to find it in the file
// ("targets[3].s3.key_regexp") and the line it is on, so the message can be
// acted on without reading rin's source.
type FieldError struct {
	Source string // where the config came from, e.g. "config.yaml"
	Line   int    // 1-based; 0 when the key is absent (a missing value)
	Field  string // dotted path, e.g. "targets[3].s3.key_regexp"
	Err    error  // one of the sentinel errors above
	Detail string // human explanation
}

func (e *FieldError) Error() string {
	loc := e.Source
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.Source, e.Line)
	}
	msg := e.Err.Error()
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Field == "" {
		return loc + ": " + msg
	}
	return loc + ": " + e.Field + ": " + msg
}

func (e *FieldError) Unwrap() error { return e.Err }
