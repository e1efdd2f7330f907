package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/template"
)

// expandTemplate runs the whole file through text/template before YAML
// decoding, with the functions of kayac/go-config, which the original Rin
// used (LoadWithEnvBytes):
//
//	{{ env "NAME" }}              value of $NAME
//	{{ env "NAME" "default" }}    value of $NAME, or "default" when unset or empty
//	{{ must_env "NAME" }}         value of $NAME; fails when NAME is not set (set but empty is fine)
//	{{ json_escape "text" }}      text escaped for use inside a JSON string
//
// env is variadic exactly as in go-config: each argument but the last is
// tried as a variable name in turn, and the last argument is returned
// literally when all of them are unset or empty. go-config also treats a
// single argument that way, so {{ env "NAME" }} with NAME unset yields the
// text "NAME", not "". rin keeps that for compatibility and records a
// warning, because it is rarely what the author meant.
func expandTemplate(src []byte, source string, lookup func(string) (string, bool), warn func(string)) ([]byte, error) {
	if !bytes.Contains(src, []byte("{{")) {
		return src, nil
	}
	funcs := template.FuncMap{
		"env": func(keys ...string) string {
			v := ""
			for _, k := range keys {
				if s, _ := lookup(k); s != "" {
					return s
				}
				v = k
			}
			if len(keys) == 1 {
				warn(fmt.Sprintf(`{{ env %q }}: $%s is unset or empty, so the literal text %q is used (as the original Rin did); write {{ env %q "" }} for an empty default`, keys[0], keys[0], keys[0], keys[0]))
			}
			return v
		},
		"must_env": func(key string) (string, error) {
			if v, ok := lookup(key); ok {
				return v, nil
			}
			return "", &envError{name: key}
		},
		"json_escape": func(s string) string {
			b, _ := json.Marshal(s)
			return string(b[1 : len(b)-1])
		},
	}
	t, err := template.New(source).Funcs(funcs).Parse(string(src))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTemplate, err)
	}
	var out bytes.Buffer
	if err := t.Execute(&out, nil); err != nil {
		var ee *envError
		if errors.As(err, &ee) {
			return nil, &FieldError{
				Source: source, Line: templateLine(err, source), Err: ErrEnvNotSet,
				Detail: fmt.Sprintf(`%s (from {{ must_env %q }}; set it, or write {{ env %q "default" }} instead)`, ee.name, ee.name, ee.name),
			}
		}
		return nil, fmt.Errorf("%w: %w", ErrTemplate, err)
	}
	return out.Bytes(), nil
}

// envError is must_env's failure; it carries the variable name so the
// message can name it without parsing text/template's wording.
type envError struct{ name string }

func (e *envError) Error() string { return "environment variable " + e.name + " is not set" }

// templateLine extracts the line from text/template's
// "template: <source>:<line>:<col>: ..." message (0 if absent).
func templateLine(err error, source string) int {
	rest, ok := strings.CutPrefix(err.Error(), "template: "+source+":")
	if !ok {
		return 0
	}
	digits, _, _ := strings.Cut(rest, ":")
	n, _ := strconv.Atoi(digits)
	return n
}
