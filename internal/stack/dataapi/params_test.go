package dataapi

import "testing"

func TestBind(t *testing.T) {
	params := []sqlParameter{{Name: "id", Value: "it's"}, {Name: "n", Value: `back\slash`}}
	for _, c := range []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT :id", `SELECT E'it\'s'`},
		{"SELECT :n::text", `SELECT E'back\\slash'::text`},
		{"SELECT ':id', \":id\", x -- :id\n, /* :id */ :id", "SELECT ':id', \":id\", x -- :id\n, /* :id */ E'it\\'s'"},
		{`SELECT 'a\':id', :id`, `SELECT 'a\':id', E'it\'s'`},
		{"SELECT a FROM t WHERE b IN (:id,:n)", `SELECT a FROM t WHERE b IN (E'it\'s',E'back\\slash')`},
	} {
		got, err := bind(c.in, params)
		if err != nil || got != c.want {
			t.Errorf("bind(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	if _, err := bind("SELECT :missing", params); err == nil {
		t.Error("a parameter without a value was accepted")
	}
}
