package lambdamode

import (
	"testing"
	"time"
)

func TestOptionsFromEnv(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	o, err := OptionsFromEnv(env(nil))
	if err != nil || o.Poison != PoisonDrop || o.Margin != 0 {
		t.Fatalf("defaults = %+v, %v", o, err)
	}
	o, err = OptionsFromEnv(env(map[string]string{EnvPoison: "Redrive", EnvMargin: "45s"}))
	if err != nil || o.Poison != PoisonRedrive || o.Margin != 45*time.Second {
		t.Fatalf("set = %+v, %v", o, err)
	}
	for _, bad := range []map[string]string{{EnvPoison: "keep"}, {EnvMargin: "soon"}, {EnvMargin: "-1s"}} {
		if _, err := OptionsFromEnv(env(bad)); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
