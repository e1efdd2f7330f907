package config

import (
	"errors"
	"fmt"
	"slices"
)

// Parse turns the text of a config file into a Config: it expands
// templates, decodes the YAML strictly (unknown keys are errors), applies
// defaults and the original Rin's fallback of target fields to the top
// level, and validates. All problems found are returned together
// (errors.Join of *FieldError values). source names the file in messages.
func Parse(data []byte, source string, opts ...Option) (*Config, error) {
	o := newOptions(opts)
	var warnings []string
	warn := func(s string) {
		if !slices.Contains(warnings, s) {
			warnings = append(warnings, s)
		}
	}
	expanded, err := expandTemplate(data, source, o.lookupEnv, warn)
	if err != nil {
		return nil, err
	}
	c := &Config{}
	l, root, err := decode(expanded, source, c)
	if err != nil {
		return nil, err
	}
	c.Source = source
	v := &validator{source: source, lines: l}
	r := &resolver{c: c, v: v, o: o, warn: warn, presence: decodePresence(root)}
	r.run()
	if len(v.errs) > 0 {
		return nil, errors.Join(v.errs...)
	}
	c.Warnings = warnings
	return c, nil
}

// MustParse is Parse for tests and examples; it panics on error.
func MustParse(data []byte, source string, opts ...Option) *Config {
	c, err := Parse(data, source, opts...)
	if err != nil {
		panic(fmt.Sprintf("config.MustParse: %v", err))
	}
	return c
}
