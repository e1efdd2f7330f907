package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// lines maps a dotted key path ("targets[2].s3.bucket") to the line it is
// written on, so that validation errors found after decoding can still
// point at the file.
type lines map[string]int

// line returns the line of path or of its nearest written ancestor: a
// missing targets[0].redshift.host is reported at targets[0].redshift.
func (l lines) line(path string) int {
	for path != "" {
		if n, ok := l[path]; ok {
			return n
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

// at returns the deepest path written on line n, or the parent of the
// deepest ones when a flow mapping puts several keys on that line
// ("" when none).
func (l lines) at(n int) string {
	var best []string
	depth := -1
	for p, ln := range l {
		if ln != n {
			continue
		}
		switch d := strings.Count(p, ".") + strings.Count(p, "["); {
		case d > depth:
			best, depth = []string{p}, d
		case d == depth:
			best = append(best, p)
		}
	}
	switch len(best) {
	case 0:
		return ""
	case 1:
		return best[0]
	}
	p := best[0]
	if i := strings.LastIndexAny(p, ".["); i > 0 {
		return p[:i]
	}
	return ""
}

// decode parses YAML strictly into c. Unknown keys are found by walking the
// node tree against Config's yaml tags rather than with yaml.v3's
// KnownFields, because the walk knows the full path of each key
// (targets[1].s3, not just "type config.S3") and can suggest the nearest
// known key. Anchors, aliases and merge keys (<<) are followed, as yaml.v2
// in the original Rin did.
func decode(data []byte, source string, c *Config) (lines, *yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, nil, &FieldError{Source: source, Err: ErrSyntax, Detail: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return nil, nil, &FieldError{Source: source, Err: ErrEmpty}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, nil, &FieldError{Source: source, Line: root.Line, Err: ErrSyntax, Detail: "the top level must be a mapping of keys (queue_name:, redshift:, ...)"}
	}
	w := &walker{source: source, lines: lines{}}
	w.walk(root, reflect.TypeOf(Config{}), "", 0)
	if len(w.errs) > 0 {
		return nil, nil, errors.Join(w.errs...)
	}
	if err := root.Decode(c); err != nil {
		return nil, nil, typeErrors(err, source, w.lines)
	}
	return w.lines, root, nil
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

type walker struct {
	source string
	lines  lines
	errs   []error
}

var unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

func (w *walker) walk(n *yaml.Node, t reflect.Type, path string, depth int) {
	if depth > 64 { // alias loops are rejected by yaml.v3; this is a backstop
		return
	}
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return // a type error; root.Decode reports it with its line
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Tag == "!!merge" || k.Value == "<<" {
				w.walkMerge(v, t, path, depth)
				continue
			}
			child := joinPath(path, k.Value)
			if _, seen := w.lines[child]; !seen {
				w.lines[child] = k.Line
			}
			ft, ok := fields[k.Value]
			if !ok {
				w.errs = append(w.errs, &FieldError{
					Source: w.source, Line: k.Line, Field: child, Err: ErrUnknownKey,
					Detail: unknownKeyDetail(k.Value, path, fields),
				})
				continue
			}
			w.walk(v, ft, child, depth+1)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return
		}
		for i, item := range n.Content {
			child := fmt.Sprintf("%s[%d]", path, i)
			w.lines[child] = item.Line
			w.walk(item, t.Elem(), child, depth+1)
		}
	}
}

func (w *walker) walkMerge(v *yaml.Node, t reflect.Type, path string, depth int) {
	for v.Kind == yaml.AliasNode && v.Alias != nil {
		v = v.Alias
	}
	if v.Kind == yaml.SequenceNode {
		for _, item := range v.Content {
			w.walk(item, t, path, depth+1)
		}
		return
	}
	w.walk(v, t, path, depth+1)
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func targetPath(i int) string { return "targets[" + strconv.Itoa(i) + "]" }

// yamlFields maps the yaml keys of struct t to field types (yaml:"-" and
// unexported fields excluded).
func yamlFields(t reflect.Type) map[string]reflect.Type {
	m := make(map[string]reflect.Type, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		m[name] = f.Type
	}
	return m
}

func unknownKeyDetail(key, parent string, fields map[string]reflect.Type) string {
	where := "at the top level"
	if parent != "" {
		where = "in " + parent
	}
	names := make([]string, 0, len(fields))
	best, bestDist := "", 3 // suggest only close matches
	for name := range fields {
		names = append(names, name)
		if d := editDistance(strings.ToLower(key), name); d < bestDist {
			best, bestDist = name, d
		}
	}
	sort.Strings(names)
	msg := fmt.Sprintf("%q is not a valid key %s", key, where)
	if best != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", best)
	}
	return msg + "; valid keys: " + strings.Join(names, ", ")
}

// editDistance is the Levenshtein distance, for "did you mean".
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

var typeErrLine = regexp.MustCompile(`^line (\d+): (.*)$`)

// typeErrors rewrites yaml.v3's "line 5: cannot unmarshal !!str `x` into
// int" into FieldErrors that name the key.
func typeErrors(err error, source string, l lines) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return &FieldError{Source: source, Err: ErrInvalid, Detail: err.Error()}
	}
	errs := make([]error, 0, len(te.Errors))
	for _, msg := range te.Errors {
		fe := &FieldError{Source: source, Err: ErrInvalid, Detail: msg}
		if m := typeErrLine.FindStringSubmatch(msg); m != nil {
			fe.Line, _ = strconv.Atoi(m[1])
			fe.Field = l.at(fe.Line)
			fe.Detail = m[2]
		}
		if strings.HasPrefix(fe.Detail, "mapping key") { // duplicate key
			fe.Err, fe.Detail = ErrSyntax, "duplicate key: "+fe.Detail
		}
		errs = append(errs, fe)
	}
	return errors.Join(errs...)
}

// presence records booleans whose explicit false must not be replaced by
// the top-level value. reconnect_on_error is the only such key: the
// original Rin (a *bool since it added the redshift-data driver) lets a
// target say false under a top-level true.
type presence struct {
	targetReconnect []*bool
}

func decodePresence(root *yaml.Node) presence {
	var raw struct {
		Targets []struct {
			Redshift struct {
				ReconnectOnError *bool `yaml:"reconnect_on_error"`
			} `yaml:"redshift"`
		} `yaml:"targets"`
	}
	_ = root.Decode(&raw) // the strict decode already succeeded
	p := presence{targetReconnect: make([]*bool, len(raw.Targets))}
	for i, t := range raw.Targets {
		p.targetReconnect[i] = t.Redshift.ReconnectOnError
	}
	return p
}
