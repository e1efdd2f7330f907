package config

import (
	"errors"
	"strings"
	"testing"
)

func TestTemplates(t *testing.T) {
	vars := map[string]string{"HOST": "rs.internal", "EMPTY": "", "B": "from_b", "Q": `a"b`}
	tests := []struct {
		name, expr, want string
		warn             bool
	}{
		{"env set", `{{ env "HOST" }}`, "rs.internal", false},
		{"env default", `{{ env "NOPE" "fallback" }}`, "fallback", false},
		{"env default when empty", `{{ env "EMPTY" "fallback" }}`, "fallback", false},
		{"env chain", `{{ env "NOPE" "B" "last" }}`, "from_b", false},
		{"env empty default", `{{ env "NOPE" "" }}`, "", false},
		// go-config's quirk, kept: a lone unset name yields the name.
		{"env unset", `{{ env "NOPE" }}`, "NOPE", true},
		{"must_env set", `{{ must_env "HOST" }}`, "rs.internal", false},
		{"must_env set but empty", `{{ must_env "EMPTY" }}`, "", false},
		{"json_escape", `{{ json_escape (env "Q") }}`, `a\"b`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "queue_name: q\nredshift: {host: h, table: 'x{{ \"\" }}'}\ns3: {bucket: b, key_prefix: p}\nsql_option: '" + tt.expr + "'\ntargets: [{}]\n"
			c, err := Parse([]byte(src), "t.yaml", env(vars))
			if err != nil {
				t.Fatal(err)
			}
			if c.SQLOption != tt.want {
				t.Errorf("got %q, want %q", c.SQLOption, tt.want)
			}
			if got := len(c.Warnings) > 0; got != tt.warn {
				t.Errorf("warnings %q, want warning=%v", c.Warnings, tt.warn)
			}
		})
	}
}

func TestTemplateErrors(t *testing.T) {
	_, err := Parse(fixture(t, "config.yml"), "config.yml", noEnv)
	if !errors.Is(err, ErrEnvNotSet) || !strings.Contains(err.Error(), "AWS_SECRET_ACCESS_KEY") || !strings.Contains(err.Error(), "config.yml:5") {
		t.Errorf("must_env unset: %v", err)
	}
	_, err = Parse([]byte("queue_name: '{{ nosuch \"x\" }}'\n"), "t.yaml", noEnv)
	if !errors.Is(err, ErrTemplate) || !strings.Contains(err.Error(), "nosuch") {
		t.Errorf("unknown function: %v", err)
	}
	_, err = Parse([]byte("queue_name: '{{ env \"x\" '\n"), "t.yaml", noEnv)
	if !errors.Is(err, ErrTemplate) {
		t.Errorf("unclosed action: %v", err)
	}
}
